#pragma once
/// The memory map a capture kernel loaded with kexec_load sees, and its boot_params encoding.
/// Pure functions over parsed /proc/iomem; thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/loader/reservation.hpp"

namespace crashkit::loader {

/// E820 types (arch/x86/include/asm/e820/types.h).
enum class E820Type : std::uint32_t {
  ram = 1,
  reserved = 2,
  acpi = 3,
  nvs = 4,
  unusable = 5,
  pmem = 7,
  pram = 12,
};

struct E820Entry {
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
  E820Type type = E820Type::ram;
  bool operator==(const E820Entry&) const = default;
};

/// Layout of the zero page (arch/x86/include/uapi/asm/bootparam.h, struct boot_params).
inline constexpr std::size_t kBootParamsSize = 0x1000;
inline constexpr std::size_t kBootParamsE820EntriesOffset = 0x1e8; ///< __u8 e820_entries
inline constexpr std::size_t kBootParamsE820TableOffset = 0x2d0;   ///< boot_e820_entry[128]
inline constexpr std::size_t kE820MaxEntriesZeropage = 128;
inline constexpr std::size_t kBootE820EntrySize = 20; ///< packed {u64 addr, u64 size, u32 type}

/// The capture kernel's map, sorted by address, adjacent same-type entries merged:
/// - RAM: System RAM below 1 MiB (reserved by the crashed kernel since v5.13, so free to reuse)
///   and every "Crash kernel" range (low and high) minus `exclude` (the elfcorehdr segment, whose
///   bytes the capture kernel must not reuse as RAM);
/// - ACPI Tables (3), ACPI Non-volatile Storage (4), reserved/Reserved (2), Persistent Memory (7),
///   Persistent Memory (legacy) (12), at any nesting depth, so the capture kernel can map
///   firmware tables and pmem;
/// - everything else (the crashed kernel's RAM, PCI windows) is absent.
/// Where listed ranges overlap, the more deeply nested /proc/iomem entry wins.
/// Errors: data when the addresses are hidden or there are no crash ranges.
Result<std::vector<E820Entry>> capture_e820(const std::vector<IomemEntry>& entries,
                                            const std::vector<MemRange>& exclude = {});

/// Writes `map` into a zero page: the count at 0x1e8 and the 20-byte entries at 0x2d0; other
/// bytes are untouched. Errors: usage when `boot_params` is shorter than 4096 bytes; unsupported
/// when there are more than 128 entries (they would need a SETUP_E820_EXT setup_data).
Status write_e820_table(std::span<std::byte> boot_params, const std::vector<E820Entry>& map);

} // namespace crashkit::loader
