#pragma once
/// The ELF64 core header handed to an x86_64 capture kernel loaded with kexec_load (elfcorehdr=).
/// The capture kernel derives /proc/vmcore from it: PT_NOTEs name the per-CPU crash notes and the
/// VMCOREINFO note in the crashed kernel's memory, PT_LOADs name the memory to dump. Pure: the
/// caller reads /proc/iomem and sysfs; nothing here does I/O. Thread-safe (no shared state).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/loader/reservation.hpp"

namespace crashkit::loader {

/// Base of the kernel's direct mapping of all RAM without KASLR memory randomisation (v4.20+,
/// 5-level paging off). Under CONFIG_RANDOMIZE_MEMORY the running value differs.
inline constexpr std::uint64_t kDefaultPageOffset = 0xffff888000000000ull;
/// __START_KERNEL_map: the kernel image mapping; _text lies within 1 GiB above it.
inline constexpr std::uint64_t kStartKernelMap = 0xffffffff80000000ull;
/// _text without KASLR: __START_KERNEL_map + CONFIG_PHYSICAL_START (16 MiB default).
inline constexpr std::uint64_t kDefaultKernelTextVaddr = 0xffffffff81000000ull;
/// Memory below 1 MiB is left out of the dump: since v5.13 the kernel reserves it at boot (never
/// holds kernel data), and the capture kernel is given it as RAM (see e820.hpp).
inline constexpr std::uint64_t kLowMemEnd = 1ull << 20;

/// A physical address and byte count, as sysfs reports notes.
struct PhysChunk {
  std::uint64_t paddr = 0;
  std::uint64_t size = 0;
  bool operator==(const PhysChunk&) const = default;
};

/// The running kernel's image, for the kernel-text PT_LOAD that tools use to find phys_base.
struct KernelText {
  std::uint64_t paddr = 0; ///< physical _text: start of "Kernel code" in /proc/iomem
  std::uint64_t size = 0;  ///< "Kernel code" start to "Kernel bss" end
  bool operator==(const KernelText&) const = default;
};

/// What the header is built from.
struct ElfCoreInputs {
  /// One per possible CPU that has crash notes, in CPU order
  /// (/sys/devices/system/cpu/cpuN/crash_notes and crash_notes_size).
  std::vector<PhysChunk> cpu_notes;
  /// /sys/kernel/vmcoreinfo ("<paddr hex> <size hex>").
  PhysChunk vmcoreinfo;
  KernelText kernel_text;
  /// Virtual address of _text (/proc/kallsyms or the kcore PT_LOAD holding it); with KASLR it is
  /// randomised, the default is the non-KASLR value.
  std::uint64_t kernel_text_vaddr = kDefaultKernelTextVaddr;
  /// Direct-map base: p_vaddr of each RAM PT_LOAD is page_offset + paddr.
  std::uint64_t page_offset = kDefaultPageOffset;
  /// RAM to dump, sorted and disjoint (see dump_ranges()).
  std::vector<MemRange> ram;
};

/// `r` minus every range in `cuts`, in address order (all ends inclusive).
std::vector<MemRange> subtract_ranges(const MemRange& r, const std::vector<MemRange>& cuts);

/// "Kernel code" start .. "Kernel bss" end from parsed /proc/iomem. Errors: data when "Kernel
/// code" or "Kernel bss" is missing or the bss ends before the code starts.
Result<KernelText> kernel_text_from_iomem(const std::vector<IomemEntry>& entries);

/// System RAM minus every crash range (low and high) minus the first 1 MiB, sorted, adjacent
/// ranges merged. Errors: data when the addresses are hidden (reader not root) or nothing is
/// left.
Result<std::vector<MemRange>> dump_ranges(const Reservation& res);

/// /sys/devices/system/cpu/cpuN/crash_notes ("%llx\n", no 0x) and crash_notes_size ("%zu\n").
/// Errors: data.
Result<PhysChunk> parse_crash_notes(std::string_view addr_text, std::string_view size_text);
/// /sys/kernel/vmcoreinfo ("%lx %x\n"). Errors: data.
Result<PhysChunk> parse_vmcoreinfo(std::string_view text);

/// Where the running kernel's image and direct map are, from /proc/kcore's program headers
/// (KASLR randomises both).
struct KcoreLayout {
  std::uint64_t kernel_text_vaddr = 0; ///< p_vaddr of the PT_LOAD for the kernel image
  std::uint64_t page_offset = 0;       ///< p_vaddr - p_paddr of a direct-map RAM PT_LOAD
  bool operator==(const KcoreLayout&) const = default;
};

/// Parses the first bytes of /proc/kcore (ELF64 header and program headers). The kernel
/// image is the PT_LOAD inside [kStartKernelMap, +1 GiB) with a physical address (modules and
/// vmalloc have p_paddr = -1); the direct map is a PT_LOAD below kStartKernelMap with a physical
/// address. Errors: data, naming what is missing.
Result<KcoreLayout> parse_kcore_layout(std::span<const std::byte> head);

/// A sysfs CPU list ("0-3,5\n", /sys/devices/system/cpu/possible). Errors: data.
Result<std::vector<unsigned>> parse_cpu_list(std::string_view text);

/// Builds the ELF64 little-endian ET_CORE/EM_X86_64 header: Ehdr, then program headers in this
/// order: one PT_NOTE per CPU, the VMCOREINFO PT_NOTE, the kernel-text PT_LOAD, one PT_LOAD per
/// RAM range. Every p_offset equals p_paddr (the capture kernel reads old memory by physical
/// address). No padding: the result is exactly e_phoff + e_phnum * e_phentsize bytes.
/// Errors: usage for empty CPU notes, zero-sized notes, unsorted or overlapping RAM, a
/// kernel_text_vaddr outside [kStartKernelMap, +1 GiB), a page_offset not 1 GiB aligned, more
/// than 65534 program headers, or an address + size that wraps.
Result<std::vector<std::byte>> build_elf_core_header(const ElfCoreInputs& in);

} // namespace crashkit::loader
