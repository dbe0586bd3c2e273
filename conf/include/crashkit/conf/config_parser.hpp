#pragma once
/// Reading crashkit.conf and its drop-ins into a Config, strictly: every problem becomes one
/// "FILE:LINE: message" diagnostic and all of them are reported together.
///
/// Layering: the main file is read first, then crashkit.conf.d/*.conf in lexical (byte) order of
/// their names. A directive given in a later file replaces the earlier file's value (the dump
/// target is one setting: any target directive replaces any earlier target). Within one file a
/// directive may appear once; a second one, or a second target, is an error. Conflicts between
/// settings (force_rebuild with force_no_rebuild, ...) are checked on the merged result and
/// reported at the later of the two lines.
///
/// Lines: '#' starts a comment at the start of a word; words are split by split_words() (quotes,
/// backslashes) and never reach a shell. kdump.conf style: a command directive (core_collector,
/// kdump_pre, kdump_post) whose only argument is written in double quotes is split once more, so
/// core_collector "makedumpfile -l -d 31" works; single-quote a lone path containing spaces.

#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"

namespace crashkit::conf {

inline constexpr std::string_view kConfigFile = "/etc/crashkit/crashkit.conf";
inline constexpr std::string_view kDropInDir = "/etc/crashkit/crashkit.conf.d";

/// One problem found in the configuration.
struct Diagnostic {
  Origin origin;
  std::string message;
  /// "FILE:LINE: message" (or "FILE: message" for file-level problems).
  std::string str() const;
};

/// The merged config and every error found. The config is only meaningful when ok().
struct ConfigParse {
  Config config;
  std::vector<Diagnostic> errors;
  /// Import mode only: values that were mapped with a change (makedumpfile options dropped or
  /// rewritten). Never set by the strict parser.
  std::vector<Diagnostic> notes;
  bool ok() const { return errors.empty(); }
  /// Every diagnostic's str(), one per line, in the order found.
  std::string error_text() const;
  /// The config, or one Error (data) whose text is error_text() without the last newline.
  Result<Config> into_result() &&;
};

/// Accumulates files in order; parse errors never stop it.
class ConfigParser {
public:
  /// import_mode is for converting a kdump.conf: a core_collector is rewritten to the
  /// crashkit-capture options it maps to, options without an equivalent are dropped with a
  /// note instead of an error, and conflicting force_rebuild/force_no_rebuild both revert to
  /// their defaults (still reported as an error).
  explicit ConfigParser(bool import_mode = false) : import_mode_(import_mode) {}
  /// Parses one file's text; file is the name used in diagnostics and origins.
  void add_text(const std::string& file, std::string_view text);
  /// Records a problem that is not about a line (unreadable file, ...).
  void add_error(Origin origin, std::string message);
  /// Runs the cross-setting checks and returns the result.
  ConfigParse finish() &&;

private:
  bool import_mode_ = false;
  Config config_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> notes_;
};

/// Parses a single text as if it were the only file.
ConfigParse parse_config_text(std::string_view text, const std::string& file = "crashkit.conf");

/// Reads main_file (a missing file gives the defaults) and then every *.conf in dropin_dir (a
/// missing directory is fine). Unreadable files are diagnostics, not early returns.
ConfigParse load_config_files(const std::string& main_file, const std::string& dropin_dir);

/// load_config_files() on kConfigFile and kDropInDir below root ("" or "/" for the live system,
/// an image or test tree otherwise).
ConfigParse load_config(const std::string& root = "");

} // namespace crashkit::conf
