#pragma once
/// The crashkernel= kernel parameter: one parser for the whole syntax, the kernel's RAM-dependent
/// evaluation, and a formatter back to canonical text. Pure functions, no system access.
///
/// Grammar of one value (what follows "crashkernel="), as kernel/crash_reserve.c accepts it:
///   SIZE[@OFFSET]                       fixed size, optionally at a fixed physical address
///   START-[END]:SIZE[,START-[END]:SIZE...][@OFFSET]   size chosen by the amount of RAM
///   SIZE,high | SIZE,low | SIZE,cma     the high region, its low companion, the CMA extra
/// SIZE is a memparse() number: decimal or 0x hex with an optional K/M/G/T/P/E suffix.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::conf {

/// Which reservation a crashkernel= word configures (the kernel keeps one value per kind).
enum class CrashkernelKind { plain, high, low, cma };

/// "START-END:SIZE": applies when START <= RAM < END (END absent: no upper bound).
struct CrashkernelRange {
  std::uint64_t start = 0;
  std::optional<std::uint64_t> end;
  std::uint64_t size = 0;
  bool operator==(const CrashkernelRange&) const = default;
};

/// One crashkernel= value.
struct CrashkernelWord {
  CrashkernelKind kind = CrashkernelKind::plain;
  /// Non-empty for the range form (plain kind only); size is then unused.
  std::vector<CrashkernelRange> ranges;
  std::uint64_t size = 0;
  /// "@OFFSET" (plain kind only).
  std::optional<std::uint64_t> offset;
  bool operator==(const CrashkernelWord&) const = default;
};

/// Every crashkernel= word of a command line or config value, in the order written.
struct CrashkernelSetting {
  std::vector<CrashkernelWord> words;
  bool operator==(const CrashkernelSetting&) const = default;
};

/// Parses whitespace-separated words, each "crashkernel=VALUE" or a bare VALUE, e.g.
/// "crashkernel=256M,high crashkernel=72M,low" or "512M-2G:64M,2G-:128M". Every word must be
/// well-formed (stricter than the kernel, which only ever parses the last word of each kind).
/// Errors (category data) read `crashkernel "TEXT" at character N: WHAT`, N counting from 1;
/// when error_position is given it receives N-1.
Result<CrashkernelSetting> parse_crashkernel(std::string_view text,
                                             std::size_t* error_position = nullptr);

/// Word boundaries [begin, end) of a kernel command line, split at blanks outside double
/// quotes as the kernel's next_arg() does (the quotes stay inside the word). With
/// stop_at_dashes the list ends before a bare "--" (what follows is init's).
std::vector<std::pair<std::size_t, std::size_t>> cmdline_words(std::string_view cmdline,
                                                               bool stop_at_dashes);

/// The crashkernel= words of a whole kernel command line (/proc/cmdline, GRUB_CMDLINE_LINUX, a
/// BLS options line); other parameters are skipped, and so is everything after a bare "--"
/// (init's arguments). An empty setting when there is none. Error positions index cmdline.
Result<CrashkernelSetting> parse_crashkernel_in_cmdline(std::string_view cmdline,
                                                        std::size_t* error_position = nullptr);

/// cmdline with its crashkernel= words replaced by setting (nothing else changes, spacing
/// included): the new words take the place of the first old one, later old ones are removed
/// with the blank before them; with no old word they are appended (before a bare "--"). An
/// empty setting removes them all.
std::string replace_crashkernel_in_cmdline(std::string_view cmdline,
                                           const CrashkernelSetting& setting);

/// Canonical text of one value, without the "crashkernel=" prefix ("512M-2G:64M,2G-:128M").
std::string format_crashkernel_value(const CrashkernelWord& word);

/// Canonical text of a setting: "crashkernel=VALUE" words joined by single spaces.
std::string format_crashkernel(const CrashkernelSetting& setting);

/// The RAM figure the range form is compared against: System RAM rounded up to 128 MiB, as the
/// kernel's parse_crashkernel_mem() does to make up for memory the firmware keeps. system_ram
/// is the kernel's memblock total; the sum of the "System RAM" ranges of /proc/iomem is the
/// figure userspace can see (kdump-utils uses the same sum) and matches it to within what the
/// rounding absorbs.
std::uint64_t crashkernel_ram_figure(std::uint64_t system_ram);

/// What the kernel would reserve for a given amount of System RAM.
struct CrashkernelReservation {
  std::uint64_t ram_figure = 0; ///< crashkernel_ram_figure(system_ram)
  std::uint64_t size = 0;       ///< main region; 0 when nothing is reserved
  std::optional<std::uint64_t> offset;
  bool high = false; ///< the main region comes from crashkernel=X,high
  /// With high: the explicit ,low size; nullopt means the architecture default (x86 256 MiB or
  /// more, arm64/riscv 128 MiB); 0 disables the low region.
  std::optional<std::uint64_t> low;
  std::uint64_t cma = 0;
  /// Index of the matching range in the effective plain word (range form), else -1.
  int range_index = -1;
  /// Words the kernel ignores and why ("crashkernel=72M,low is ignored without ,high").
  std::vector<std::string> notes;
};

/// Evaluates a setting the way parse_crashkernel() in kernel/crash_reserve.c does: the last word
/// of each kind counts; a plain word wins over ,high (and ,low then is ignored); ranges are
/// tried in order, START inclusive, END exclusive, against crashkernel_ram_figure(). No matching
/// range, or no plain/,high word, gives size 0 (nothing reserved) with a note. Errors (data) for
/// what the kernel rejects: a range size not below the rounded RAM (checked for every range up
/// to the matching one), a final size not below system_ram, and crashkernel=0,high.
Result<CrashkernelReservation> evaluate_crashkernel(const CrashkernelSetting& setting,
                                                    std::uint64_t system_ram);

} // namespace crashkit::conf
