#include "crashkit/capture/x86_64_memory.hpp"
#include "crashkit/base/hex.hpp"

#include <cstdio>

#include "crashkit/capture/arch.hpp"

namespace crashkit::capture {
namespace {

const std::uint64_t kStartKernelMap = kArchX86_64.kernel_map_start;
constexpr std::uint64_t kPresent = 1ULL << 0;
constexpr std::uint64_t kPse = 1ULL << 7;
// Physical address bits 12..51 of a page-table entry (bit 63 is NX, 52..62 software/PKEY).
constexpr std::uint64_t kEntryAddrMask = 0x000ffffffffff000ULL;

} // namespace

Result<std::unique_ptr<X86_64Memory>> X86_64Memory::create(const VmcoreFile& core,
                                                           const Vmcoreinfo& info) {
  std::unique_ptr<X86_64Memory> m(new X86_64Memory(core));
  if (auto pb = info.number("phys_base")) {
    m->phys_base_ = static_cast<std::uint64_t>(*pb);
  } else {
    // Older kernels don't export phys_base; the kernel-text PT_LOAD gives it.
    bool found = false;
    for (const auto& s : core.raw_loads()) {
      if (s.vaddr >= kStartKernelMap) {
        m->phys_base_ = s.paddr - (s.vaddr - kStartKernelMap);
        found = true;
        break;
      }
    }
    if (!found)
      return Error(ErrorCategory::data,
                   "VMCOREINFO has no NUMBER(phys_base) and no kernel-text PT_LOAD to derive it");
  }
  auto pgt = info.symbol("init_top_pgt");
  if (!pgt)
    pgt = info.symbol("init_level4_pgt"); // before 4.13
  if (!pgt)
    return Error(ErrorCategory::data,
                 "VMCOREINFO lacks SYMBOL(init_top_pgt) (and init_level4_pgt): cannot walk page "
                 "tables");
  if (*pgt < kStartKernelMap)
    return Error(ErrorCategory::data,
                 "SYMBOL(init_top_pgt)=" + hex(*pgt) + " is not a kernel-text address");
  m->pgd_phys_ = *pgt - kStartKernelMap + m->phys_base_;
  if (auto l5 = info.number("pgtable_l5_enabled"); l5 && *l5 != 0)
    m->levels_ = 5;
  // Kernels with AMD SME export the encryption bit; entries carry it and must be stripped.
  if (auto sme = info.number("sme_mask"))
    m->sme_mask_ = static_cast<std::uint64_t>(*sme);
  return m;
}

Status X86_64Memory::read_phys(std::uint64_t paddr, void* buf, std::size_t len) {
  return core_.read_phys(paddr, buf, len);
}

Result<std::uint64_t> X86_64Memory::vtop(std::uint64_t vaddr) {
  {
    std::lock_guard lk(mu_);
    for (const auto& e : tlb_)
      if (vaddr - e.vbase < e.size)
        return e.pbase + (vaddr - e.vbase);
  }
  return walk(vaddr);
}

Result<std::uint64_t> X86_64Memory::walk(std::uint64_t vaddr) {
  const std::uint64_t mask = kEntryAddrMask & ~sme_mask_;
  std::uint64_t table = pgd_phys_;
  // Shift of the index at each level from the top: PGD(48, 5-level only), P4D/PGD(39), PUD(30),
  // PMD(21), PTE(12).
  const int shifts5[] = {48, 39, 30, 21, 12};
  const int* shifts = levels_ == 5 ? shifts5 : shifts5 + 1;
  const int nlevels = levels_;
  for (int lvl = 0; lvl < nlevels; ++lvl) {
    const int shift = shifts[lvl];
    std::uint64_t idx = (vaddr >> shift) & 511;
    std::uint64_t entry = 0;
    CK_TRY_CONTEXT(core_.read_phys(table + idx * 8, &entry, sizeof entry),
                   "translate " + hex(vaddr) + ": read page table at " + hex(table + idx * 8));
    if (!(entry & kPresent))
      return Error(ErrorCategory::data, "virtual address " + hex(vaddr) + " is not mapped");
    const bool leaf = shift == 12 || ((shift == 30 || shift == 21) && (entry & kPse));
    if (leaf) {
      const std::uint64_t size = 1ULL << shift;
      // Large-page entries keep PAT in bit 12; the frame is aligned to the page size.
      const std::uint64_t pbase = (entry & mask) & ~(size - 1);
      const std::uint64_t vbase = vaddr & ~(size - 1);
      {
        std::lock_guard lk(mu_);
        tlb_[tlb_next_] = {vbase, pbase, size};
        tlb_next_ = (tlb_next_ + 1) % static_cast<unsigned>(tlb_.size());
      }
      return pbase + (vaddr - vbase);
    }
    table = entry & mask;
  }
  return Error(ErrorCategory::internal, "page walk fell through");
}

} // namespace crashkit::capture
