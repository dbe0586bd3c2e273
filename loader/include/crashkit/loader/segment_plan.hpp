#pragma once
/// Where each kexec_load segment of an x86_64 bzImage crash load goes inside the crash
/// reservation. Pure arithmetic; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/loader/reservation.hpp"

namespace crashkit::loader {

inline constexpr std::uint64_t kPageSize = 4096;

enum class SegmentKind { kernel, initrd, setup, elfcorehdr, purgatory };
const char* segment_kind_name(SegmentKind k);

/// Sizes and constraints, from the bzImage setup header and the built buffers.
struct SegmentRequest {
  /// The reservation the segments go in (Reservation::segment_range()), end inclusive.
  MemRange crash;
  /// setup_header.init_size: memory the kernel needs from its load address while decompressing.
  std::uint64_t kernel_memsz = 0;
  /// setup_header.kernel_alignment (power of two, at least a page).
  std::uint64_t kernel_alignment = 2ull << 20;
  /// setup_header.pref_address. A relocatable kernel is placed at or above it (the decompressor
  /// moves a kernel loaded lower up to LOAD_PHYSICAL_ADDR, out of the reservation); a
  /// non-relocatable one exactly at it.
  std::uint64_t kernel_pref_address = 16ull << 20;
  bool kernel_relocatable = true;
  /// 0 = no initrd segment.
  std::uint64_t initrd_size = 0;
  /// Highest byte address + 1 the initrd may reach: initrd_addr_max + 1, or 2^64 with
  /// XLF_CAN_BE_LOADED_ABOVE_4G.
  std::uint64_t initrd_limit = UINT64_MAX;
  std::uint64_t setup_size = 0;      ///< boot_params (zero page) + command line
  std::uint64_t elfcorehdr_size = 0; ///< build_elf_core_header() size (or the hotplug maximum)
  std::uint64_t purgatory_size = 0;  ///< placeholder until purgatory exists
};

struct PlacedSegment {
  SegmentKind kind = SegmentKind::kernel;
  std::uint64_t mem = 0;   ///< physical, page aligned
  std::uint64_t memsz = 0; ///< page aligned
  bool operator==(const PlacedSegment&) const = default;
};

struct SegmentPlan {
  std::vector<PlacedSegment> segments; ///< sorted by address, disjoint
  /// The segment of a kind; nullopt when not requested (initrd of size 0).
  std::optional<PlacedSegment> find(SegmentKind k) const;
};

/// Places the kernel lowest (aligned, >= pref_address), the initrd highest below initrd_limit,
/// then setup, elfcorehdr and purgatory first-fit from the bottom; every memsz rounded up to a
/// page; one free page is kept for the kernel's crash control page (kexec_load fails ENOMEM
/// otherwise). Errors: usage for a zero kernel/setup/elfcorehdr/purgatory size, a kernel
/// alignment that is not a power of two >= 4096, or a crash range not page aligned; unsupported
/// when a segment does not fit, naming the segment, its size, the reservation and what is
/// free.
Result<SegmentPlan> plan_segments(const SegmentRequest& req);

} // namespace crashkit::loader
