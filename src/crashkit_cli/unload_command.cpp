#include "unload_command.hpp"

#include <cstdio>

#include "crashkit/loader/kexec_loader.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_unload_command(CLI::App& app, UnloadArgs& a) {
  auto* sub = app.add_subcommand("unload", "empty the panic slot (default) or the reboot slot");
  auto* panic = sub->add_flag("-p,--panic", a.panic, "unload the panic kernel (the default)");
  auto* reboot = sub->add_flag("--reboot", a.reboot, "unload the kernel loaded for reboot");
  panic->excludes(reboot);
  return sub;
}

int run_unload(const UnloadArgs& a, loader::KexecSys& sys) {
  const auto slot = a.reboot ? loader::Slot::reboot : loader::Slot::panic;
  auto st = loader::unload(sys, slot);
  if (!st)
    return report_error(st.error());
  std::printf("%s kernel unloaded\n", loader::slot_name(slot));
  return 0;
}

} // namespace crashkit::cli
