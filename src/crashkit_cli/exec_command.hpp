#pragma once
// `crashkit exec`: reboot now into the kernel loaded with `crashkit load --reboot`.

#include <CLI/CLI.hpp>

#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct ExecArgs {};

CLI::App* add_exec_command(CLI::App& app, ExecArgs& args);

/// Does not return on success; exit 3 when no kernel is loaded for reboot.
int run_exec(const ExecArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
