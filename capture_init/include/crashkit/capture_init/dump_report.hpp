#pragma once
/// report.json: what the capture init writes beside every dump, and what `crashkit list` reads.
///
/// Schema (version 1). Every key is always present; unknown values are null.
/// {
///   "version":     1,
///   "time":        "2026-11-27T10:18:53Z",   // UTC, when the capture started
///   "kernel":      "6.1.0-56-amd64" | null,  // OSRELEASE from VMCOREINFO
///   "panic":       "Kernel panic - not syncing: sysrq triggered crash" | null,
///                                             // the last panic line of dmesg.txt, without the
///                                             // "[    1.234567] " prefix
///   "dump_level":  31,                        // level actually applied (-d)
///   "requested_dump_level": 31,               // level asked for
///   "dump_level_reasons": ["..."],            // why dump_level is lower (VMCOREINFO keys
///                                             // missing or impossible); [] when equal
///   "format":      "kdump" | "elf" | "flat",
///   "compression": "zstd" | "zlib" | "lzo" | "snappy" | "none",
///   "sizes":       {"vmcore": 123456, "dmesg": 4567},  // bytes written; 0 when not written
///   "pages":       {"total": N, "ram": N, "dumped": N, "written": N, "unreadable": N,
///                   "shared": N,
///                   "excluded": {"zero": N, "cache": N, "cache_private": N, "user": N,
///                                "free": N, "hwpoison": N, "offline": N}} | null,
///                                             // as crashkit-capture --json; null when the
///                                             // capture did not get that far
///   "duration_s":  12.5,                      // capture start to report, seconds
///   "status":      "complete" | "incomplete" | "failed",
///                                             // complete: vmcore final; incomplete:
///                                             // vmcore.incomplete holds a partial dump;
///                                             // failed: no vmcore
///   "exit_code":   0,                         // crashkit-capture's exit code for the same
///                                             // outcome (0, 3 unreadable pages, 73 disk full..)
///   "message":     "..."                      // one line: what went wrong, or "" when complete
/// }

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/capture_job.hpp"

namespace crashkit::capture_init {

enum class DumpStatus { complete, incomplete, failed };
std::string_view status_name(DumpStatus s);

struct DumpReport {
  std::int64_t time = 0; ///< unix seconds
  std::string kernel;    ///< empty = unknown
  std::string panic;     ///< empty = not found
  int dump_level = 31;
  std::string format = "kdump";
  std::string compression = "zstd";
  std::uint64_t vmcore_bytes = 0;
  std::uint64_t dmesg_bytes = 0;
  std::optional<capture::CaptureStats> stats; ///< pages; unset when the capture did not run
  double duration_s = 0;
  DumpStatus status = DumpStatus::failed;
  int exit_code = 0;
  std::string message;
};

/// The most a reader takes of a report.json: report_json() writes about 1 KiB, the panic line
/// being one printk record (about 1 KiB at most); anything far larger was not written by it.
inline constexpr std::size_t kMaxReportBytes = 64 * 1024;

/// The JSON text (pretty, newline-terminated); invalid UTF-8 in kernel or panic becomes
/// U+FFFD, so this never throws on what the crashed kernel left.
std::string report_json(const DumpReport& r);

/// What a reader (`crashkit list`) takes from a report.json: the fields describing the dump.
struct SavedReport {
  std::string kernel;               ///< empty = unknown (null or absent)
  std::string panic;                ///< empty = unknown (null or absent)
  std::optional<int> dump_level;    ///< unset when absent or not an integer
  std::optional<DumpStatus> status; ///< unset when null, absent or not a known name
};

/// Reads the text report_json() writes (or an older/partial one): null and absent values are
/// unknown. Errors: data when the text is not JSON or kernel/panic/status is neither a string
/// nor null. Thread-safe.
Result<SavedReport> parse_report_json(std::string_view text);

/// "2026-11-27T10:18:53Z".
std::string iso8601_utc(std::int64_t unix_time);

/// The panic message in a dmesg text: the last line containing "Kernel panic - not syncing:",
/// from that phrase on, trailing whitespace dropped. Empty when there is none.
std::string find_panic_line(std::string_view dmesg);

} // namespace crashkit::capture_init
