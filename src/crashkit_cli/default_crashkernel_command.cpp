#include "default_crashkernel_command.hpp"

#include <cstdio>

#include "crashkit/admin/default_crashkernel.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_default_crashkernel_command(CLI::App& app, DefaultCrashkernelArgs& a) {
  auto* sub = app.add_subcommand("get-default-crashkernel",
                                 "print the crashkernel= value crashkit recommends");
  sub->add_option("--arch", a.arch, "for this machine type (uname -m) instead of this one");
  return sub;
}

int run_default_crashkernel(const DefaultCrashkernelArgs& a) {
  auto v = admin::default_crashkernel(a.arch.empty() ? admin::running_machine() : a.arch);
  if (!v)
    return report_error(v.error());
  std::printf("%s\n", v->c_str());
  return 0;
}

} // namespace crashkit::cli
