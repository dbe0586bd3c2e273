#pragma once
/// crashkit-capture's option grammar: one table of its options (names, value, domain, help),
/// read by both front ends - the command line (src/capture_cli) and the core_collector line of
/// crashkit.conf (conf/core_collector.cpp) - and the one mapping from what they set to a
/// CaptureRequest. Each front end words its own messages; the facts live here.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/capture_job.hpp"

namespace crashkit::capture {

/// The format asked for: flat is the kdump format written as makedumpfile's flattened stream
/// (the front end picks the sink; the request says kdump). In the order of --format's choices.
enum class OutputFormat { kdump, elf, flat };

enum class OptionId {
  dump_level,
  zlib,
  lzo,
  snappy,
  zstd,
  compress,
  zstd_level,
  elf,
  flat,
  format,
  reassemble,
  threads,
  message_level,
  force,
  dump_dmesg,
  progress,
  json,
  non_mmap,
  read_mode,
  no_dedup,
  low_memory,
};

enum class OptionValue {
  none,        ///< a flag
  dump_levels, ///< a level 0..31, or a list of them (11,31)
  number,      ///< a whole number in [min, max]
  choice,      ///< one of choices
};

struct CaptureOption {
  OptionId id;
  std::string_view names; ///< CLI11's spelling: "-d,--dump-level", "--threads,--num-threads"
  OptionValue value = OptionValue::none;
  int min = 0, max = 0;        ///< number, and each dump level
  std::string_view choices;    ///< choice: "zstd|zlib|lzo|snappy|none"
  std::string_view type_name;  ///< the value's name in --help (CLI11's TEXT, INT, UINT)
  bool core_collector = false; ///< allowed in a core_collector line (else: command line only)
  bool makedumpfile = false;   ///< makedumpfile spells it so too (a makedumpfile line may use it)
  std::string_view help;
};

/// Every crashkit-capture option, in --help order.
std::span<const CaptureOption> capture_options();

/// The option spelled exactly so ("-d", "--dump-level", "--num-threads"), or nullptr.
const CaptureOption* find_capture_option(std::string_view spelling);

/// What the options that shape a dump set, as given: an option not given stays empty and
/// crashkit-capture's default applies (dump level 31, zstd level 1, kdump format, online CPUs).
struct CaptureSettings {
  std::vector<int> dump_levels; ///< -d 11,31: the first, then the next when the disk is full
  std::optional<Compression> compression;
  std::optional<int> zstd_level;
  std::optional<OutputFormat> format;
  std::optional<unsigned> threads;
  std::optional<ReadMode> read_mode; ///< --non-mmap is --read-mode pread
  std::optional<int> message_level;
  bool force = false; ///< -f: overwrite OUTPUT (no effect on the dump itself)
  bool no_dedup = false;
  bool low_memory = false;
  /// Two different compressions, or formats, were given: crashkit-capture refuses that
  /// (check_capture_settings); makedumpfile takes the last.
  bool compression_conflict = false;
  bool format_conflict = false;
  bool operator==(const CaptureSettings&) const = default;
};

/// Stores VALUE (ignored for a flag) of OPT into S. Returns nullopt when stored, else the part
/// of VALUE outside the option's domain ("3x" of "11,3x"): each front end words that itself.
/// Options that do not shape a dump (-R, --dump-dmesg, --progress, --json) store nothing.
std::optional<std::string> apply_capture_option(CaptureSettings& s, const CaptureOption& opt,
                                                std::string_view value);

/// crashkit-capture's combination rules: one compression, one format, ELF uncompressed.
/// Errors are usage errors worded for the command line.
Status check_capture_settings(const CaptureSettings& s);

/// The request S asks for, reading VMCORE. ELF output is never compressed.
CaptureRequest capture_request(const CaptureSettings& s, std::string vmcore);

/// Canonical crashkit-capture arguments giving S, those given in a fixed order: "-d 11,31",
/// "--compress lzo", "--non-mmap" for --read-mode pread, ... (-f is left out: no effect).
std::vector<std::string> capture_arguments(const CaptureSettings& s);

} // namespace crashkit::capture
