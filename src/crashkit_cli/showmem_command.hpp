#pragma once
// `crashkit showmem`: the reserved crash memory, every range, low and high.

#include <CLI/CLI.hpp>

#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct ShowmemArgs {};

CLI::App* add_showmem_command(CLI::App& app, ShowmemArgs& args);

/// Prints the ranges; 0, or an error code when the state files are malformed.
int run_showmem(const ShowmemArgs& args, loader::KexecSys& sys);

}  // namespace crashkit::cli
