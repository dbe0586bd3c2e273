#pragma once
/// report.json: what the capture init writes beside every dump; its readers take it with
/// parse_report_json (dump_dir.hpp).
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
#include "crashkit/capture_init/dump_dir.hpp"

namespace crashkit::capture_init {

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

/// The JSON text (pretty, newline-terminated); invalid UTF-8 in kernel or panic becomes
/// U+FFFD, so this never throws on what the crashed kernel left.
std::string report_json(const DumpReport& r);

/// "2026-11-27T10:18:53Z".
std::string iso8601_utc(std::int64_t unix_time);

/// The panic message in a dmesg text: the last line containing "Kernel panic - not syncing:",
/// from that phrase on, trailing whitespace dropped. Empty when there is none.
std::string find_panic_line(std::string_view dmesg);

} // namespace crashkit::capture_init
