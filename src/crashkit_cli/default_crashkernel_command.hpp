#pragma once
// `crashkit get-default-crashkernel [--arch MACHINE]`: the crashkernel= value crashkit
// recommends, printed alone (for scripts: `crashkernel=$(crashkit get-default-crashkernel)`).

#include <CLI/CLI.hpp>

#include <string>

namespace crashkit::cli {

struct DefaultCrashkernelArgs {
  std::string arch; ///< empty = the running machine
};

CLI::App* add_default_crashkernel_command(CLI::App& app, DefaultCrashkernelArgs& args);
int run_default_crashkernel(const DefaultCrashkernelArgs& args);

} // namespace crashkit::cli
