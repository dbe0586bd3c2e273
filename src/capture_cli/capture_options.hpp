#pragma once
// Command line of crashkit-capture: the options of capture/capture_options.hpp's table
// (makedumpfile's letters plus long forms) and the positional arguments, parsed into a plain
// struct. No logic beyond validation lives here.

#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/capture_options.hpp"

namespace crashkit::cli {

enum class CaptureMode { dump, flat_stdout, reassemble, dmesg };

struct CaptureOptions {
  /// Non-empty when --help or --version was given: the text to print on stdout (exit 0);
  /// nothing else is set.
  std::string help;
  CaptureMode mode = CaptureMode::dump;
  capture::CaptureSettings settings; ///< the options as given (request is made from them)
  capture::CaptureRequest request;
  std::vector<int> dump_levels = {31}; ///< -d 11,31: retry with the next level on ENOSPC
  std::string output;                  ///< OUTPUT (dump / flat file), FILE (dmesg)
  bool force = false;
  bool progress = false;
  bool json = false;
  int message_level = 7;
  bool message_level_given = false;
  bool flat = false; ///< flattened stream (to stdout, or into OUTPUT)
};

/// Parses argv. Returns the options (only help set for --help/--version), or an Error of
/// category usage with CLI11's message.
Result<CaptureOptions> parse_capture_options(int argc, char** argv);

} // namespace crashkit::cli
