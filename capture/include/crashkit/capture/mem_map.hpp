#pragma once
/// Locates the struct page of every PFN through SPARSEMEM (classic or EXTREME) mem_section,
/// the layout every x86_64 kernel uses (VMEMMAP included: the section's encoded mem_map
/// already points into the vmemmap).

#include <cstdint>
#include <optional>
#include <vector>

#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

class MemMap {
public:
  /// Reads mem_section for sections covering [0, max_pfn). Errors name the missing key.
  static Result<MemMap> create(KernelMemory& mem, const Vmcoreinfo& info, std::uint64_t max_pfn,
                               std::uint64_t page_shift);

  std::uint64_t pages_per_section() const { return pps_; }
  /// Kernel virtual address of pfn's struct page, or nullopt when its section has no mem_map.
  std::optional<std::uint64_t> struct_page(std::uint64_t pfn) const;
  /// Highest pfn+1 that has a mem_map (clips max_mapnr for mem= kernels).
  std::uint64_t end_pfn() const { return end_pfn_; }

private:
  std::uint64_t pps_ = 0;
  std::uint64_t page_size_struct_ = 64;
  std::vector<std::uint64_t> section_map_; // decoded mem_map base vaddr (0 = absent)
  std::uint64_t end_pfn_ = 0;
};

} // namespace crashkit::capture
