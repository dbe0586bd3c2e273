#pragma once
/// The core_collector directive: a crashkit-capture or makedumpfile command line, kept as argv
/// and read with crashkit-capture's own option table (capture/capture_options.hpp; it takes
/// makedumpfile's letters) into the settings the capture init gives the capture.

#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/capture_options.hpp"

namespace crashkit::conf {

enum class CollectorProgram { crashkit_capture, makedumpfile };

/// A parsed collector command line. Settings not given stay empty: crashkit-capture's defaults
/// apply (zstd, kdump format, dump level 31 when the config says nothing).
struct CoreCollector {
  std::vector<std::string> argv; ///< as written in the config
  CollectorProgram program = CollectorProgram::crashkit_capture;
  capture::CaptureSettings settings;
  /// Options crashkit-capture has no equivalent for (makedumpfile's -x, --split, ...), those it
  /// takes on its command line only (-R, --dump-dmesg, --json, --progress), and on a
  /// makedumpfile line crashkit-capture's own long options (--compress, --no-dedup, ...), with
  /// their arguments, in order. parse_core_collector() leaves them here; the strict config
  /// parser refuses them, import reports them.
  std::vector<std::string> unmapped;
  bool operator==(const CoreCollector&) const = default;
};

/// crashkit's default: crashkit-capture -d 31 (zstd, kdump-compressed format).
CoreCollector default_core_collector();

/// Reads argv. argv[0] must name crashkit-capture or makedumpfile (any directory); cp, cat, scp
/// and anything else are refused (unsupported). Short options may be clustered as getopt allows
/// ("-ld31"). Bad values (-d 40, --num-threads x) are data errors, and so, on a crashkit-capture
/// line, are the combinations crashkit-capture refuses (two compressions, compressed ELF; a
/// makedumpfile line takes the last, as makedumpfile does). Positional arguments are refused:
/// the capture environment chooses input and output.
Result<CoreCollector> parse_core_collector(const std::vector<std::string>& argv);

/// Canonical crashkit-capture arguments for the settings (unmapped options are dropped).
std::vector<std::string> capture_arguments(const CoreCollector& c);
/// The whole command line: "crashkit-capture", then capture_arguments(c).
std::vector<std::string> capture_argv(const CoreCollector& c);

} // namespace crashkit::conf
