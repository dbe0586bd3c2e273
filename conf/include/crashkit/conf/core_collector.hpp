#pragma once
/// The core_collector directive: a crashkit-capture or makedumpfile command line, kept as argv
/// and read into the options crashkit-capture understands (it takes makedumpfile's letters).

#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::conf {

enum class CollectorProgram { crashkit_capture, makedumpfile };
enum class DumpFormat { kdump, elf, flat };
enum class Compression { zlib, lzo, snappy, zstd, none };

/// A parsed collector command line. Fields not given stay empty: crashkit-capture's defaults
/// apply (zstd, kdump format, dump level 31 when the config says nothing).
struct CoreCollector {
  std::vector<std::string> argv; ///< as written in the config
  CollectorProgram program = CollectorProgram::crashkit_capture;
  std::optional<unsigned> dump_level; ///< -d N, 0..31
  std::optional<Compression> compression;
  std::optional<DumpFormat> format;
  std::optional<unsigned> message_level;
  std::optional<unsigned> threads;
  bool non_mmap = false;
  /// Options crashkit-capture has no equivalent for (makedumpfile's -x, --split, ...), with
  /// their arguments, in order. parse_core_collector() leaves them here; the strict config
  /// parser refuses them, import reports them.
  std::vector<std::string> unmapped;
  bool operator==(const CoreCollector&) const = default;
};

/// crashkit's default: crashkit-capture -d 31 (zstd, kdump-compressed format).
CoreCollector default_core_collector();

/// Reads argv. argv[0] must name crashkit-capture or makedumpfile (any directory); cp, cat, scp
/// and anything else are refused (unsupported). Short options may be clustered as getopt allows
/// ("-ld31"). Bad values (-d 40, --num-threads x) are data errors. Positional arguments are
/// refused: the capture environment chooses input and output.
Result<CoreCollector> parse_core_collector(const std::vector<std::string>& argv);

/// Canonical crashkit-capture arguments for the mapped fields (unmapped ones are dropped).
std::vector<std::string> capture_arguments(const CoreCollector& c);
/// The whole command line: "crashkit-capture", then capture_arguments(c).
std::vector<std::string> capture_argv(const CoreCollector& c);

} // namespace crashkit::conf
