#include "reset_crashkernel_command.hpp"

#include <cstdio>
#include <vector>

#include "crashkit/admin/crashkernel_upkeep.hpp"
#include "crashkit/admin/default_crashkernel.hpp"
#include "crashkit/bootcfg/reset_plan.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_reset_crashkernel_command(CLI::App& app, ResetCrashkernelArgs& a) {
  auto* sub = app.add_subcommand(
      "reset-crashkernel",
      "write crashkernel= into the boot configuration (BLS entries, /etc/kernel/cmdline, "
      "/etc/default/grub, or through grubby); prints a diff and keeps FILE.crashkit-bak");
  sub->add_option("--kernel", a.kernel, "ALL (default), a kernel version or /boot/vmlinuz-VERSION")
      ->type_name("VER|ALL");
  sub->add_option("--value", a.value, "the crashkernel= value to write; \"off\" removes it")
      ->type_name("V");
  sub->add_flag("--dry-run", a.dry_run, "print the diff and the commands, change nothing");
  sub->add_option("--root", a.root,
                  "edit the system in DIR (an image or chroot); commands are "
                  "printed, not run")
      ->type_name("DIR");
  return sub;
}

int run_reset_crashkernel(const ResetCrashkernelArgs& a) {
  // Without --value, get-default-crashkernel's value for this machine.
  std::string fallback;
  if (!a.value) {
    auto d = admin::default_crashkernel(admin::running_machine());
    if (!d)
      return report_error(d.error());
    fallback = *d;
  }
  auto setting = bootcfg::resolve_crashkernel_value(
      a.value ? std::optional<std::string_view>(*a.value) : std::nullopt, fallback);
  if (!setting)
    return report_error(setting.error());
  bootcfg::ResetRequest req;
  req.root = a.root;
  req.kernel = a.kernel;
  req.setting = std::move(*setting);
  req.dry_run = a.dry_run;
  auto plan = bootcfg::plan_reset(req);
  if (!plan)
    return report_error(plan.error());
  std::fputs(bootcfg::format_plan(*plan).c_str(), stdout);
  std::fflush(stdout);
  if (a.dry_run)
    return 0;
  if (auto st = bootcfg::execute_plan(*plan); !st)
    return report_error(st.error());
  // What crashkit wrote, so that `start` (auto_reset_crashkernel) knows the value is its own.
  const admin::CrashkernelRecord record{conf::format_crashkernel(req.setting),
                                        a.value ? admin::ChosenBy::option
                                                : admin::ChosenBy::default_value};
  if (auto st = admin::write_crashkernel_record(a.root, record); !st)
    return report_error(st.error());
  if (!plan->edits.empty() || !plan->commands.empty())
    std::printf("crashkernel= takes effect at the next boot\n");
  return 0;
}

} // namespace crashkit::cli
