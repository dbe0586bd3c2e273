#pragma once
/// Crash memory as the running kernel reports it: /proc/iomem and the /sys/kernel/kexec_* and
/// lockdown files. Parsers take the file text so tests can feed samples; nothing here does I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::loader {

inline constexpr std::uint64_t k4GiB = 1ull << 32;

/// One /proc/iomem line: "<start>-<end> : <name>", end inclusive, two spaces per nesting level.
struct IomemEntry {
  std::uint64_t start = 0;
  std::uint64_t end = 0; ///< inclusive, as printed
  std::string name;
  unsigned depth = 0;
  std::uint64_t size() const { return end - start + 1; }
};

/// Parses the whole of /proc/iomem. Errors: data, naming the 1-based line that is malformed
/// (missing " : ", bad hex, end before start, indentation jumping more than one level).
Result<std::vector<IomemEntry>> parse_iomem(std::string_view text);

/// A physical range, end inclusive.
struct MemRange {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t size() const { return end - start + 1; }
  bool operator==(const MemRange&) const = default;
};

/// The crash reservation found in /proc/iomem.
struct Reservation {
  /// Every "Crash kernel" range at any depth, sorted by address. With crashkernel=X,high (or
  /// the kernel's automatic fallback) there are two: a low one below 4 GiB for the capture
  /// kernel's DMA and the high one that holds the segments.
  std::vector<MemRange> crash_ranges;
  /// "System RAM" ranges at any depth (including "System RAM (kmem)" under a dax device).
  std::vector<MemRange> system_ram;
  /// All addresses printed as zero: the reader lacks CAP_SYS_ADMIN (kernel hides them).
  bool addresses_hidden = false;

  /// Sum of the crash ranges.
  std::uint64_t crash_bytes() const;
  /// The range kexec places the kernel, initrd and headers in: the highest one.
  std::optional<MemRange> segment_range() const;
  /// True for a crash range that is the extra low chunk (below 4 GiB while a higher range
  /// exists).
  bool is_low(const MemRange& r) const;
};

/// Extracts the reservation from parsed iomem entries.
Reservation reservation_from_iomem(const std::vector<IomemEntry>& entries);

/// Kernel lockdown mode from /sys/kernel/security/lockdown ("none [integrity] confidentiality").
enum class Lockdown { unknown, none, integrity, confidentiality };

/// The selected (bracketed) mode; unknown when the text has no bracketed known word.
Lockdown parse_lockdown(std::string_view text);
const char* lockdown_name(Lockdown l);

/// A sysfs boolean ("0\n" / "1\n"). Errors: data.
Result<bool> parse_sysfs_bool(std::string_view text);
/// A sysfs decimal byte count (/sys/kernel/kexec_crash_size). Errors: data.
Result<std::uint64_t> parse_sysfs_u64(std::string_view text);

/// "512 MiB", "1.5 GiB", "4096 bytes": sizes for people.
std::string human_size(std::uint64_t bytes);

} // namespace crashkit::loader
