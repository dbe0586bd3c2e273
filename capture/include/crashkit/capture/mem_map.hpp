#pragma once
/// Locates the struct page of every PFN through SPARSEMEM (classic or EXTREME) mem_section,
/// the layout every x86_64 kernel uses (VMEMMAP included: the section's encoded mem_map
/// already points into the vmemmap). The architecture's numbers come from ArchInfo.

#include <cstdint>
#include <optional>

#include "crashkit/capture/arch.hpp"
#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

class MemMap {
public:
  /// Checks the SPARSEMEM keys against what a kernel of `arch` can export (errors name the
  /// missing or impossible key) and reads mem_section for sections covering [0, max_pfn). Keeps
  /// no per-section table: memory use does not grow with the values read.
  static Result<MemMap> create(KernelMemory& mem, const ArchInfo& arch, const Vmcoreinfo& info,
                               std::uint64_t max_pfn, std::uint64_t page_shift);

  std::uint64_t pages_per_section() const { return pps_; }
  /// Kernel virtual address of pfn's struct page, or nullopt when its section has no mem_map
  /// (or its mem_section entry cannot be read). Not thread-safe: caches the last section.
  std::optional<std::uint64_t> struct_page(std::uint64_t pfn);
  /// Highest pfn+1 that has a mem_map (clips max_mapnr for mem= kernels).
  std::uint64_t end_pfn() const { return end_pfn_; }

private:
  /// Decoded mem_map base of section n (0 = absent).
  Result<std::uint64_t> section_base(std::uint64_t n);

  KernelMemory* mem_ = nullptr;
  std::uint64_t sym_ = 0, ms_size_ = 0, smm_off_ = 0;
  bool extreme_ = true;
  std::uint64_t per_root_ = 1;
  std::uint64_t nr_sections_ = 0;
  std::uint64_t pps_ = 0;
  std::uint64_t page_size_struct_ = 64;
  std::uint64_t end_pfn_ = 0;
  std::uint64_t cached_root_idx_ = ~0ULL, cached_root_ = 0;
  std::uint64_t cached_section_ = ~0ULL, cached_base_ = 0;
};

} // namespace crashkit::capture
