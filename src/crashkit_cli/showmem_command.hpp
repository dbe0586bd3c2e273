#pragma once
// `crashkit showmem`: the reserved crash memory, every range, low and high, and what the
// capture is estimated to need (`crashkit estimate` shows the parts).

#include <CLI/CLI.hpp>

#include <string>

#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct ShowmemArgs {
  std::string root; ///< configuration and images below DIR (the --sysroot of the tests)
};

CLI::App* add_showmem_command(CLI::App& app, ShowmemArgs& args);

/// Prints the ranges and the estimate (or why there is none); 0, or an error code when the
/// state files are malformed.
int run_showmem(const ShowmemArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
