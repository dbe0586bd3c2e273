#pragma once
/// A capture written to a dump file or a flattened stream, retried at the next dump level when
/// the disk fills: the sequence crashkit-capture's command line and the capture init share.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/open_dump.hpp"

namespace crashkit::capture {

/// Where dump_to_output writes.
struct DumpOutput {
  std::string path;   ///< the dump file; "" writes the flattened stream to stream_fd
  bool force = false; ///< replace an existing file at path
  bool flat = false;  ///< the flattened stream (into path, or to stream_fd)
  int stream_fd = 1;
  std::string stream_name = "<stdout>";
};

/// What dump_to_output left behind, also when it failed.
struct DumpedOutput {
  CaptureRequest request; ///< of the last attempt (its dump level)
  std::string staged;     ///< path.incomplete once created (the file while written); else ""
  std::string final_path; ///< path, the name the file has once finished; else ""
  /// The capture's figures once it ran to its end (then an error is in finishing the output).
  std::optional<CaptureStats> stats;
  bool finished = false;   ///< the output was made final (renamed, or the end marker written)
  std::uint64_t bytes = 0; ///< bytes handed to the output (the stream's, when flat)
};

/// Before a retry: the file that filled, the level that failed and the one tried next.
using RetryNotice = std::function<void(const std::string& file, int level, int next_level)>;

/// run_capture() with req at each of `levels` in turn (empty: req.dump_level alone), going on
/// to the next level only when a dump file fills (no_space); the full file is removed first
/// and on_retry told. A failed attempt's staged bytes are flushed, so a partial dump stays
/// readable as path.incomplete. A finished dump is final: the stream's end marker, then
/// fdatasync, rename to path, fsync of the directory. A dump file bypasses the page cache
/// (O_DIRECT where the filesystem allows it; not for a flattened stream): the capture kernel
/// has little memory to spare. Errors: creating the file, the capture's, finishing's; `done`
/// says what is on disk.
Result<CaptureStats> dump_to_output(const CaptureRequest& req, const std::vector<int>& levels,
                                    OpenDump& dump, const DumpOutput& out, DumpedOutput& done,
                                    const ProgressFn& progress, const RetryNotice& on_retry = {});

} // namespace crashkit::capture
