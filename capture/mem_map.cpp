#include "crashkit/capture/mem_map.hpp"
#include "crashkit/base/hex.hpp"

#include <algorithm>
#include <cstdio>

#include "layout_keys.hpp"

namespace crashkit::capture {
namespace {

// section_mem_map carries flags in its low bits (PRESENT, HAS_MEM_MAP, IS_ONLINE, …; 5 bits
// since 5.x, fewer before). The encoded pointer is at least 32-byte aligned, so masking 5 bits
// is right on every kernel.
constexpr std::uint64_t kSectionMarkedPresent = 1;
constexpr std::uint64_t kSectionFlagMask = (1ULL << 5) - 1;
// struct mem_section is two or three words (section_mem_map, usage, page_ext with
// CONFIG_PAGE_EXTENSION); at most a page's worth per root in the EXTREME layout.
constexpr std::int64_t kMaxMemSectionSize = 4096;

} // namespace

Result<MemMap> MemMap::create(KernelMemory& mem, const ArchInfo& arch, const Vmcoreinfo& info,
                              std::uint64_t max_pfn, std::uint64_t page_shift) {
  MemMap m;
  m.mem_ = &mem;
  auto sym = info.symbol("mem_section");
  auto ms_size = info.size("mem_section");
  auto smm_off = info.offset("mem_section.section_mem_map");
  auto ssb = info.number("SECTION_SIZE_BITS");
  if (!ssb)
    ssb = arch.section_size_bits;
  auto page_sz = info.size("page");
  if (!sym || !ms_size || !smm_off || !page_sz)
    return Error(ErrorCategory::data,
                 "VMCOREINFO lacks the SPARSEMEM keys (SYMBOL(mem_section), SIZE(mem_section), "
                 "OFFSET(mem_section.section_mem_map), SIZE(page))");
  const auto physmem_key = info.number("MAX_PHYSMEM_BITS");
  std::int64_t physmem_bits = physmem_key.value_or(info.number("pgtable_l5_enabled").value_or(0)
                                                       ? arch.physmem_bits_5level
                                                       : arch.physmem_bits_4level);

  // Every value below becomes a shift, a stride or a count: refuse what no kernel of the
  // architecture has.
  std::vector<std::string> bad;
  const auto page_shift_i = static_cast<std::int64_t>(page_shift);
  const std::string arch_is = std::string(" (") + arch.name + ": ";
  if (physmem_bits < arch.min_physmem_bits || physmem_bits > arch.max_physmem_bits)
    bad.push_back(key_value("NUMBER(MAX_PHYSMEM_BITS)", physmem_bits) + arch_is +
                  std::to_string(arch.min_physmem_bits) + ".." +
                  std::to_string(arch.max_physmem_bits) + ")");
  if (*ssb != arch.section_size_bits || *ssb <= page_shift_i)
    bad.push_back(key_value("NUMBER(SECTION_SIZE_BITS)", *ssb) + arch_is +
                  std::to_string(arch.section_size_bits) + ")");
  if (*ms_size < 8 || *ms_size > kMaxMemSectionSize)
    bad.push_back(key_value("SIZE(mem_section)", *ms_size));
  else if (*smm_off < 0 || !field_fits(static_cast<std::uint64_t>(*smm_off), 8,
                                       static_cast<std::uint64_t>(*ms_size)))
    bad.push_back(key_value("OFFSET(mem_section.section_mem_map)", *smm_off) +
                  " (outside SIZE(mem_section))");
  if (*page_sz < kMinStructPageSize || *page_sz > kMaxStructPageSize)
    bad.push_back(key_value("SIZE(page)", *page_sz));
  if (!bad.empty())
    return Error(ErrorCategory::data,
                 "implausible SPARSEMEM values in VMCOREINFO: " + join_names(bad));

  m.sym_ = *sym;
  m.ms_size_ = static_cast<std::uint64_t>(*ms_size);
  m.smm_off_ = static_cast<std::uint64_t>(*smm_off);
  m.pps_ = 1ULL << static_cast<std::uint64_t>(*ssb - page_shift_i);
  m.page_size_struct_ = static_cast<std::uint64_t>(*page_sz);
  const std::uint64_t page_size = 1ULL << page_shift;

  // include/linux/mmzone.h: NR_MEM_SECTIONS = 1 << (MAX_PHYSMEM_BITS - SECTION_SIZE_BITS),
  // SECTIONS_PER_ROOT = PAGE_SIZE / sizeof(struct mem_section) with SPARSEMEM_EXTREME, else 1;
  // kernel/vmcore_info.c exports LENGTH(mem_section) = NR_SECTION_ROOTS.
  const std::uint64_t per_root = page_size / m.ms_size_;
  auto nr_sections_for = [&](std::int64_t bits) {
    return 1ULL << static_cast<std::uint64_t>(bits - *ssb);
  };
  auto nr_roots_for = [&](std::int64_t bits) {
    return (nr_sections_for(bits) + per_root - 1) / per_root;
  };
  auto len = info.length("mem_section");
  auto fits_length = [&](std::int64_t bits) {
    return !len || static_cast<std::uint64_t>(*len) == nr_roots_for(bits) ||
           static_cast<std::uint64_t>(*len) == nr_sections_for(bits);
  };
  // Kernels before 5.9 (commit 1d50e5d0c505) do not export MAX_PHYSMEM_BITS, and early x86_64
  // ones had 44 bits: take the number LENGTH(mem_section) was computed from.
  if (!physmem_key && !fits_length(physmem_bits))
    for (std::int64_t bits = arch.min_physmem_bits; bits <= arch.max_physmem_bits; ++bits)
      if (fits_length(bits)) {
        physmem_bits = bits;
        break;
      }
  const std::uint64_t nr_mem_sections = nr_sections_for(physmem_bits);
  const std::uint64_t nr_roots = nr_roots_for(physmem_bits);
  if (!fits_length(physmem_bits))
    return Error(
        ErrorCategory::data,
        "implausible SPARSEMEM values in VMCOREINFO: " + key_value("LENGTH(mem_section)", *len) +
            " is neither " + std::to_string(nr_roots) + " roots (SPARSEMEM_EXTREME) nor " +
            std::to_string(nr_mem_sections) + " sections for MAX_PHYSMEM_BITS " +
            std::to_string(physmem_bits) + " and SECTION_SIZE_BITS " + std::to_string(*ssb));
  // EXTREME when LENGTH(mem_section) is the number of roots (or absent, as makedumpfile assumes).
  m.extreme_ = !len || static_cast<std::uint64_t>(*len) == nr_roots;
  m.per_root_ = m.extreme_ ? per_root : 1;

  // No section exists past NR_MEM_SECTIONS, whatever the PT_LOADs claim.
  m.nr_sections_ = std::min((max_pfn + m.pps_ - 1) / m.pps_, nr_mem_sections);
  // Read every entry once now, so an unreadable mem_section is an error here rather than pages
  // silently kept later; nothing is stored per section.
  for (std::uint64_t n = 0; n < m.nr_sections_; ++n) {
    if (CK_TRY(m.section_base(n)) != 0)
      m.end_pfn_ = (n + 1) * m.pps_;
  }
  if (m.end_pfn_ > max_pfn)
    m.end_pfn_ = max_pfn;
  return m;
}

Result<std::uint64_t> MemMap::section_base(std::uint64_t n) {
  if (n == cached_section_)
    return cached_base_;
  std::uint64_t sec_addr;
  if (extreme_) {
    const std::uint64_t ri = n / per_root_;
    if (ri != cached_root_idx_) {
      auto root = CK_TRY_CONTEXT(mem_->read_u64(sym_ + ri * 8),
                                 "read mem_section root " + std::to_string(ri));
      cached_root_idx_ = ri;
      cached_root_ = root;
    }
    if (cached_root_ == 0)
      return std::uint64_t{0};
    sec_addr = cached_root_ + (n % per_root_) * ms_size_;
  } else {
    sec_addr = sym_ + n * ms_size_;
  }
  const std::uint64_t coded =
      CK_TRY_CONTEXT(mem_->read_u64(sec_addr + smm_off_),
                     "read mem_section[" + std::to_string(n) + "] at " + hex(sec_addr));
  std::uint64_t base = 0;
  const std::uint64_t enc = coded & ~kSectionFlagMask;
  // The kernel stores mem_map - section_first_pfn * sizeof(struct page).
  if ((coded & kSectionMarkedPresent) && enc != 0)
    base = enc + n * pps_ * page_size_struct_;
  cached_section_ = n;
  cached_base_ = base;
  return base;
}

std::optional<std::uint64_t> MemMap::struct_page(std::uint64_t pfn) {
  const std::uint64_t n = pfn / pps_;
  if (n >= nr_sections_)
    return std::nullopt;
  auto base = section_base(n);
  if (!base || *base == 0)
    return std::nullopt;
  return *base + (pfn % pps_) * page_size_struct_;
}

} // namespace crashkit::capture
