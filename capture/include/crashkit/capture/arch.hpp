#pragma once
/// What generic capture code needs to know about the crashed kernel's architecture, one ArchInfo
/// per architecture (arch_x86_64.cpp), chosen by the core's e_machine. A second architecture is
/// one more arch_<name>.cpp (its numbers, each with the kernel version it comes from, and its
/// page-table walk) and one more entry in arch_for_machine().

#include <cstdint>
#include <memory>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/vmcore_file.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

struct ArchInfo {
  /// Name in messages, and the kdump header's utsname.machine when the crashed kernel's own
  /// init_uts_ns cannot be read (uname -m).
  const char* name;
  /// e_machine of the architecture's ELF cores.
  std::uint16_t elf_machine;
  /// Lowest kernel-text virtual address: the PT_LOAD /proc/vmcore gives for the kernel image
  /// starts at or above it.
  std::uint64_t kernel_map_start;
  /// SECTION_SIZE_BITS when VMCOREINFO does not export it, and the only value accepted.
  std::int64_t section_size_bits;
  /// MAX_PHYSMEM_BITS when VMCOREINFO does not export it, with 4-level and 5-level paging.
  std::int64_t physmem_bits_4level;
  std::int64_t physmem_bits_5level;
  /// MAX_PHYSMEM_BITS of any kernel of the architecture.
  std::int64_t min_physmem_bits;
  std::int64_t max_physmem_bits;
  /// Kernel-virtual translation through the crashed kernel's own page tables. Errors name the
  /// missing VMCOREINFO key.
  Result<std::unique_ptr<KernelMemory>> (*create_memory)(const VmcoreFile& core,
                                                         const Vmcoreinfo& info);
};

/// x86_64 (arch_x86_64.cpp).
extern const ArchInfo kArchX86_64;

/// The architecture of cores with this e_machine, or nullptr when capture does not know it (then
/// nothing can be translated and only zero pages can be excluded).
const ArchInfo* arch_for_machine(std::uint16_t e_machine);

} // namespace crashkit::capture
