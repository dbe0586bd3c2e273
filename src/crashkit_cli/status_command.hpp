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

/// Prints admin::test_status_line, when there is one.
void print_test_status(const std::string& root, loader::KexecSys& sys,
                       const conf::Config* start_config);

/// Prints what is loaded and the reservation; kStatusArmed / kStatusNotArmed, or an error code.
int run_status(const StatusArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
