#pragma once
// `crashkit load --panic|--reboot KERNEL ...`: the request and its runner.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/loader/kexec_loader.hpp"
#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct LoadArgs {
  bool panic = false;
  bool reboot = false;
  std::string kernel;
  std::string initrd;
  std::string append;
  std::optional<std::string> command_line;
  bool reuse_cmdline = false;
  std::string syscall = "auto";
  std::optional<std::string> remove_params;  ///< comma/space separated names
  std::optional<std::string> capture_params; ///< parameters, "" for none
};

/// Adds --syscall auto|file|legacy (load, start, restart, reload) to SUB, filling VALUE.
CLI::Option* add_syscall_option(CLI::App* sub, std::string& value, const std::string& help);
/// The loader's choice for a --syscall value.
loader::SyscallChoice syscall_choice(const std::string& value);

/// Registers the subcommand's options, filling args.
CLI::App* add_load_command(CLI::App& app, LoadArgs& args);

/// Checks what CLI11 cannot express (exactly one slot). Errors: usage.
Status validate_load(const LoadArgs& args);

/// Builds the command line and loads. Returns the exit code; prints one line.
int run_load(const LoadArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
