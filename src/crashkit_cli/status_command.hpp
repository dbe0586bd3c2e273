#pragma once
// `crashkit status` (exit 0 armed, 3 not) and `crashkit showmem`.

#include <CLI/CLI.hpp>

#include <string>

#include "crashkit/conf/config.hpp"
#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct StatusArgs {
  std::string root; ///< state and config below DIR (the global --sysroot)
};

CLI::App* add_status_command(CLI::App& app, StatusArgs& args);

/// The `crashkit test` line: pending in this boot, judged now (first boot after the crash), or
/// the last judged outcome. `start` passes its config: then only a test from an earlier boot
/// is judged and printed (what crashkit.service says at boot). Problems reading it are
/// printed, never returned: the exit codes of status and start are about the armed kernel.
void print_test_status(const std::string& root, loader::KexecSys& sys,
                       const conf::Config* start_config);

/// Prints what is loaded and the reservation; kStatusArmed / kStatusNotArmed, or an error code.
int run_status(const StatusArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
