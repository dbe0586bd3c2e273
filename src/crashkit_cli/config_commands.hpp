#pragma once
// `crashkit check-config` and `crashkit import`: crashkit.conf validated, or written from an
// existing kdump-utils / kdump-tools configuration.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "crashkit/conf/config.hpp"

namespace crashkit::cli {

/// Config errors exit 1, as kdumpctl's do, not a sysexits code: scripts written for kdumpctl
/// test `crashkit check-config || ...`.
inline constexpr int kExitBadConfig = 1;

/// The configuration under root, or every FILE:LINE problem on stderr followed by
/// "crashkit: N problem(s) in the configuration; CONSEQUENCE" (what the command did not do)
/// and nullopt: the caller exits kExitBadConfig.
std::optional<conf::Config> load_config_or_report(const std::string& root, const char* consequence);

struct CheckConfigArgs {
  std::string root;    ///< read ROOT/etc/crashkit/... (an image or test tree)
  std::string sysroot; ///< the global --sysroot: sysfs/procfs/dev below it (tests)
};

struct ImportArgs {
  std::string from;                ///< "kdump.conf" or "kdump-tools"; empty = detect
  std::optional<std::string> file; ///< kdump.conf or /etc/default/kdump-tools
  std::string sysconfig = "/etc/sysconfig/kdump";
  std::optional<std::string> output;
  bool force = false;
};

CLI::App* add_check_config_command(CLI::App& app, CheckConfigArgs& args);
CLI::App* add_import_command(CLI::App& app, ImportArgs& args);

/// Prints every FILE:LINE problem on stderr and returns 1, or a summary and 0. On this system
/// (no --root, or a --sysroot given) the dump target must be reachable by the capture image
/// (initramfs::check_capture_reach: its error and 1; its warnings on stderr).
int run_check_config(const CheckConfigArgs& args);
/// Writes the converted crashkit.conf (stdout or --output, atomically, never over an existing
/// file without --force) and lists on stderr what was not carried over. 0, or the error's code.
int run_import(const ImportArgs& args);

} // namespace crashkit::cli
