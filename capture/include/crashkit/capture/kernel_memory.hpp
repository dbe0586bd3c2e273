#pragma once
/// Access to the crashed kernel's memory by physical and kernel-virtual address.

#include <cstddef>
#include <cstdint>
#include <string>

#include "crashkit/base/result.hpp"

namespace crashkit::capture {

class KernelMemory {
public:
  virtual ~KernelMemory() = default;

  /// Reads physical memory; fails on holes.
  virtual Status read_phys(std::uint64_t paddr, void* buf, std::size_t len) = 0;
  /// Translates a kernel virtual address; fails (data error naming the address) when unmapped.
  virtual Result<std::uint64_t> vtop(std::uint64_t vaddr) = 0;

  /// Reads kernel-virtual memory, translating page by page.
  Status read_virt(std::uint64_t vaddr, void* buf, std::size_t len);
  Result<std::uint64_t> read_u64(std::uint64_t vaddr);
  Result<std::uint32_t> read_u32(std::uint64_t vaddr);
};

} // namespace crashkit::capture
