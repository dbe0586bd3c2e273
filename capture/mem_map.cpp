#include "crashkit/base/hex.hpp"
#include "crashkit/capture/mem_map.hpp"

#include <cstdio>

namespace crashkit::capture {
namespace {

// section_mem_map carries flags in its low bits (PRESENT, HAS_MEM_MAP, IS_ONLINE, …; 5 bits
// since 5.x, fewer before). The encoded pointer is at least 32-byte aligned, so masking 5 bits
// is right on every kernel.
constexpr std::uint64_t kSectionMarkedPresent = 1;
constexpr std::uint64_t kSectionFlagMask = (1ULL << 5) - 1;
// Upper bound on sections we will index (2^25 sections = 4 PiB with 128 MiB sections).
constexpr std::uint64_t kMaxSections = 1ULL << 25;
constexpr std::int64_t kX86_64SectionSizeBits = 27;

} // namespace

Result<MemMap> MemMap::create(KernelMemory& mem, const Vmcoreinfo& info, std::uint64_t max_pfn,
                              std::uint64_t page_shift) {
  MemMap m;
  auto sym = info.symbol("mem_section");
  auto ms_size = info.size("mem_section");
  auto smm_off = info.offset("mem_section.section_mem_map");
  // Kernels before 5.11 do not export SECTION_SIZE_BITS; on x86_64 it has always been 27.
  auto ssb = info.number("SECTION_SIZE_BITS");
  if (!ssb)
    ssb = kX86_64SectionSizeBits;
  auto page_sz = info.size("page");
  if (!sym || !ms_size || !smm_off || !ssb || !page_sz)
    return Error(ErrorCategory::data,
                 "VMCOREINFO lacks the SPARSEMEM keys (SYMBOL(mem_section), SIZE(mem_section), "
                 "OFFSET(mem_section.section_mem_map), SIZE(page))");
  if (*ssb <= static_cast<std::int64_t>(page_shift) || *ssb > 40 || *ms_size <= 0 ||
      *ms_size > 4096 || *page_sz <= 0 || *page_sz > 1024)
    return Error(ErrorCategory::data, "implausible SPARSEMEM values in VMCOREINFO");
  m.pps_ = 1ULL << (static_cast<std::uint64_t>(*ssb) - page_shift);
  m.page_size_struct_ = static_cast<std::uint64_t>(*page_sz);
  const std::uint64_t page_size = 1ULL << page_shift;

  std::int64_t max_physmem_bits =
      info.number("MAX_PHYSMEM_BITS")
          .value_or(info.number("pgtable_l5_enabled").value_or(0) ? 52 : 46);
  const std::uint64_t nr_mem_sections =
      1ULL << (static_cast<std::uint64_t>(max_physmem_bits) - static_cast<std::uint64_t>(*ssb));
  const std::uint64_t per_root = page_size / static_cast<std::uint64_t>(*ms_size);
  const std::uint64_t nr_roots = (nr_mem_sections + per_root - 1) / per_root;
  // EXTREME when LENGTH(mem_section) is the number of roots (or absent, as makedumpfile assumes).
  auto len = info.length("mem_section");
  const bool extreme = !len || static_cast<std::uint64_t>(*len) == nr_roots;

  std::uint64_t nsec = (max_pfn + m.pps_ - 1) / m.pps_;
  if (nsec > kMaxSections)
    nsec = kMaxSections;
  m.section_map_.assign(nsec, 0);
  std::uint64_t cached_root_idx = ~0ULL, cached_root = 0;
  for (std::uint64_t n = 0; n < nsec; ++n) {
    std::uint64_t sec_addr;
    if (extreme) {
      const std::uint64_t ri = n / per_root;
      if (ri != cached_root_idx) {
        auto root = mem.read_u64(*sym + ri * 8);
        if (!root)
          return std::move(root).error().context("read mem_section root " + std::to_string(ri));
        cached_root_idx = ri;
        cached_root = *root;
      }
      if (cached_root == 0)
        continue;
      sec_addr = cached_root + (n % per_root) * static_cast<std::uint64_t>(*ms_size);
    } else {
      if (len && n >= static_cast<std::uint64_t>(*len))
        break;
      sec_addr = *sym + n * static_cast<std::uint64_t>(*ms_size);
    }
    auto coded = mem.read_u64(sec_addr + static_cast<std::uint64_t>(*smm_off));
    if (!coded)
      return std::move(coded).error().context("read mem_section[" + std::to_string(n) + "] at " +
                                              hex(sec_addr));
    if (!(*coded & kSectionMarkedPresent))
      continue;
    const std::uint64_t enc = *coded & ~kSectionFlagMask;
    if (enc == 0)
      continue;
    // The kernel stores mem_map - section_first_pfn * sizeof(struct page).
    m.section_map_[n] = enc + n * m.pps_ * m.page_size_struct_;
    m.end_pfn_ = (n + 1) * m.pps_;
  }
  if (m.end_pfn_ > max_pfn)
    m.end_pfn_ = max_pfn;
  return m;
}

std::optional<std::uint64_t> MemMap::struct_page(std::uint64_t pfn) const {
  const std::uint64_t n = pfn / pps_;
  if (n >= section_map_.size() || section_map_[n] == 0)
    return std::nullopt;
  return section_map_[n] + (pfn % pps_) * page_size_struct_;
}

} // namespace crashkit::capture
