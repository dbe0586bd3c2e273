#include "crashkit/capture/kernel_memory.hpp"

#include <algorithm>

namespace crashkit::capture {

Status KernelMemory::read_virt(std::uint64_t vaddr, void* buf, std::size_t len) {
  auto* out = static_cast<std::uint8_t*>(buf);
  while (len > 0) {
    const std::uint64_t pa = CK_TRY(vtop(vaddr));
    // Extend over pages that are physically contiguous too (vmemmap and the direct map are
    // 2 MiB/1 GiB mapped), so one read covers many pages.
    std::size_t chunk = std::min<std::size_t>(len, 4096 - (vaddr & 4095));
    while (chunk < len) {
      auto next = vtop(vaddr + chunk);
      if (!next || *next != pa + chunk)
        break;
      chunk += std::min<std::size_t>(len - chunk, 4096);
    }
    CK_TRY(read_phys(pa, out, chunk));
    out += chunk;
    vaddr += chunk;
    len -= chunk;
  }
  return {};
}

Result<std::uint64_t> KernelMemory::read_u64(std::uint64_t vaddr) {
  std::uint64_t v = 0;
  CK_TRY(read_virt(vaddr, &v, sizeof v));
  return v;
}

Result<std::uint32_t> KernelMemory::read_u32(std::uint64_t vaddr) {
  std::uint32_t v = 0;
  CK_TRY(read_virt(vaddr, &v, sizeof v));
  return v;
}

} // namespace crashkit::capture
