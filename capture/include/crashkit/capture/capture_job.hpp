#pragma once
/// One capture: open the vmcore, set up translation and filtering, and write the requested
/// format to a sink. The front ends (crashkit-capture's src/capture_cli/, the capture init) only
/// fill CaptureRequest and report CaptureStats.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture/page_compressor.hpp"
#include "crashkit/capture/page_filter.hpp"
#include "crashkit/capture/page_reader.hpp"

namespace crashkit::capture {

enum class DumpFormat { kdump, elf };

struct CaptureRequest {
  std::string vmcore;
  int dump_level = 31;
  Compression compression = Compression::zstd;
  int zstd_level = 1; ///< zstd only
  DumpFormat format = DumpFormat::kdump;
  unsigned threads = 0; ///< 0 = online CPUs
  ReadMode read_mode = ReadMode::automatic;
  bool dedup = true; ///< kdump format: identical pages share one payload
  /// Smaller batches and identical-page table (about 5 MiB less): for a capture kernel in a
  /// small reservation. The output is the same except that fewer identical pages may be shared.
  bool low_memory = false;
  bool operator==(const CaptureRequest&) const = default;
};

struct CaptureStats {
  std::uint64_t max_mapnr = 0;
  std::uint64_t ram_pages = 0;
  ClassCounts excluded;
  std::uint64_t dumped_pages = 0;     ///< pages with a descriptor / in a PT_LOAD's file part
  std::uint64_t written_pages = 0;    ///< pages whose payload was written (not shared zero)
  std::uint64_t unreadable_pages = 0; ///< EIO / SIGBUS: recorded as missing
  std::uint64_t shared_pages = 0;     ///< identical to an earlier page: payload shared
  std::uint64_t bytes_written = 0;
  double seconds = 0;
  int dump_level = 0;           ///< level actually applied
  int requested_dump_level = 0; ///< level asked for (CaptureRequest::dump_level)
  /// When dump_level < requested_dump_level: why (the warnings naming each missing or
  /// impossible VMCOREINFO key, or the memory that could not be translated); else empty.
  std::vector<std::string> level_reasons;
  std::string osrelease;
  std::vector<std::string> warnings;
};

/// Exit status of a capture that finished but recorded some pages as missing (EIO/SIGBUS):
/// crashkit-capture's and the capture init's report.json exit_code.
inline constexpr int kExitUnreadablePages = 3;

/// Progress callback: pages done, pages total.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

/// Writes the dump. On failure the sink holds a partial dump flagged incomplete.
Result<CaptureStats> run_capture(const CaptureRequest& req, OutputSink& sink,
                                 const ProgressFn& progress);

/// The same with the core already opened (req.vmcore then only names it in messages): a
/// caller that read the dump's dmesg or estimated its size first does not open it again.
Result<CaptureStats> run_capture(const CaptureRequest& req, OpenDump& dump, OutputSink& sink,
                                 const ProgressFn& progress);

} // namespace crashkit::capture
