#pragma once
// `crashkit reset-crashkernel [--kernel VER|ALL] [--value V] [--dry-run] [--root DIR]`.

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace crashkit::cli {

struct ResetCrashkernelArgs {
  std::string kernel = "ALL";
  std::optional<std::string> value;
  bool dry_run = false;
  std::string root; ///< "" = the running system
};

CLI::App* add_reset_crashkernel_command(CLI::App& app, ResetCrashkernelArgs& args);

/// Prints the diff, the commands and the notes; unless --dry-run writes the files, then (unless
/// --root) runs the commands. Returns the exit code.
int run_reset_crashkernel(const ResetCrashkernelArgs& args);

} // namespace crashkit::cli
