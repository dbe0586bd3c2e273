// x86_64's numbers, each from the kernel source it is defined in; the page-table walk is
// X86_64Memory (x86_64_memory.cpp).

#include <elf.h>

#include "crashkit/capture/arch.hpp"
#include "crashkit/capture/x86_64_memory.hpp"

namespace crashkit::capture {
namespace {

Result<std::unique_ptr<KernelMemory>> create_x86_64_memory(const VmcoreFile& core,
                                                           const Vmcoreinfo& info) {
  return std::unique_ptr<KernelMemory>(CK_TRY(X86_64Memory::create(core, info)));
}

} // namespace

const ArchInfo kArchX86_64 = {
    // UTS_MACHINE of arch/x86/Makefile for a 64-bit build.
    .name = "x86_64",
    // include/uapi/linux/elf-em.h EM_X86_64 (62, the System V psABI's number).
    .elf_machine = EM_X86_64,
    // arch/x86/include/asm/page_64_types.h __START_KERNEL_map: the kernel text mapping, the
    // same address since the x86_64 port (include/asm-x86_64/page.h before 2.6.24).
    .kernel_map_start = 0xffffffff80000000ULL,
    // arch/x86/include/asm/sparsemem.h: x86_64 has always used 128 MiB sections
    // (SECTION_SIZE_BITS 27, "matt - 128 is convenient right now"); kernels before 5.11 do not
    // export the number. Any other value is not from an x86_64 kernel.
    .section_size_bits = 27,
    // The same header: MAX_PHYSMEM_BITS was 44 in early x86_64 kernels, then 46 with 4-level
    // paging and (pgtable_l5_enabled() ? 52 : 46) since 4.14's 5-level paging; 52 is also the
    // page-table format's limit on physical addresses.
    .physmem_bits_4level = 46,
    .physmem_bits_5level = 52,
    .min_physmem_bits = 44,
    .max_physmem_bits = 52,
    .create_memory = create_x86_64_memory,
};

const ArchInfo* arch_for_machine(std::uint16_t e_machine) {
  if (e_machine == kArchX86_64.elf_machine)
    return &kArchX86_64;
  return nullptr;
}

} // namespace crashkit::capture
