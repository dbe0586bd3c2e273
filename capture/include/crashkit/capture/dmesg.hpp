#pragma once
/// The crashed kernel's log (dmesg), extracted from its memory and formatted byte for byte like
/// Debian 12's `makedumpfile --dump-dmesg` (1.7.2). Three kernel layouts, told apart by
/// VMCOREINFO keys only:
///   - lockless printk_ringbuffer (5.10+): SYMBOL(prb) and its SIZE/OFFSET keys;
///   - variable-length records in log_buf (3.5–5.9): SYMBOL(log_first_idx), SIZE(printk_log);
///   - plain character buffer (< 3.5): SYMBOL(log_end).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

/// What extract_dmesg() found on the way. Damaged records are skipped rather than fatal; these
/// counters let the caller say so.
struct DmesgStats {
  enum class Layout { none, lockless, variable_records, plain };
  Layout layout = Layout::none;
  std::uint64_t records = 0;            ///< records written to the text
  std::uint64_t skipped_corrupt = 0;    ///< records dropped for impossible positions or lengths
  std::uint64_t skipped_unreadable = 0; ///< records whose descriptor or text could not be read
  /// The dump's tail/head (or first/next) indices were inconsistent: only the part of the ring
  /// that can be valid was walked, or the walk stopped at a broken record.
  bool walk_cut_short = false;
  /// Oldest part not read because the log is larger than a built-in one can be (32 MiB,
  /// CONFIG_LOG_BUF_SHIFT <= 25; only log_buf_len= makes it larger): records (bytes for the
  /// plain pre-3.5 buffer).
  std::uint64_t skipped_old = 0;
};

/// Receives the formatted log in order, a piece (about 64 KiB) at a time. An error it returns
/// stops the extraction and is returned as is.
using DmesgSink = std::function<Status(std::string_view)>;

/// Streams the kernel log to `sink` as makedumpfile --dump-dmesg prints it (see extract_dmesg)
/// with fixed memory: the ring is read a window at a time, never whole, and only its newest
/// 32 MiB of records are read. Errors as extract_dmesg; text already handed to `sink` stays.
Status write_dmesg(KernelMemory& mem, const Vmcoreinfo& info, const DmesgSink& sink,
                   DmesgStats& stats);

/// Extracts the kernel log as makedumpfile --dump-dmesg prints it: one
/// "[%5llu.%06lu] text\n" line per record (pre-3.5 kernels: the raw buffer), embedded newlines
/// followed by the prefix's width of spaces, non-printable bytes as "\xNN" (bytes >= 0x80 as
/// "\xffffffNN", as makedumpfile's signed char prints them).
///
/// Errors: `unsupported` naming every missing VMCOREINFO key of the chosen layout (or when
/// neither SYMBOL(prb) nor SYMBOL(log_buf) exists); `data` when the layout keys contradict
/// each other or the ring header holds impossible sizes (count_bits > 30, size_bits > 31, ...);
/// the memory error, with context, when the ring header, the descriptor pointers or a legacy
/// log_buf cannot be read. Damaged or unreadable individual records are skipped, never read
/// past their buffer.
///
/// Thread-safety: none of its own; uses `mem` exclusively for the duration of the call.
Result<std::string> extract_dmesg(KernelMemory& mem, const Vmcoreinfo& info);

/// As above, also reporting what was found and skipped in `stats`.
Result<std::string> extract_dmesg(KernelMemory& mem, const Vmcoreinfo& info, DmesgStats& stats);

/// What save_dmesg() wrote.
struct SavedDmesg {
  std::uint64_t bytes = 0; ///< size of the file
  std::string tail;        ///< its last kSavedDmesgTail bytes (where the panic message is)
  DmesgStats stats;
};
inline constexpr std::size_t kSavedDmesgTail = 64 << 10;

/// Streams the log into `path`: `path`.incomplete, synced and renamed when complete (FileSink;
/// `force` replaces an existing file). Memory use is fixed whatever the log's size. Errors:
/// FileSink's, then write_dmesg's (the .incomplete file keeps what was written).
Result<SavedDmesg> save_dmesg(KernelMemory& mem, const Vmcoreinfo& info, const std::string& path,
                              bool force);

} // namespace crashkit::capture
