#pragma once
// `crashkit unload [--panic|--reboot]`.

#include <CLI/CLI.hpp>

#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct UnloadArgs {
  bool panic = false;
  bool reboot = false; ///< neither given: the panic slot
};

CLI::App* add_unload_command(CLI::App& app, UnloadArgs& args);

/// Returns the exit code; prints one line.
int run_unload(const UnloadArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
