#include "reset_crashkernel_command.hpp"

#include <cstdio>

#include "crashkit/admin/crashkernel_upkeep.hpp"
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
  bootcfg::ResetRequest req;
  req.root = a.root;
  req.kernel = a.kernel;
  req.dry_run = a.dry_run;
  auto reset = admin::plan_crashkernel_reset(std::move(req), a.value);
  if (!reset)
    return report_error(reset.error());
  const bootcfg::ResetPlan& plan = reset->plan;
  std::fputs(bootcfg::format_plan(plan).c_str(), stdout);
  std::fflush(stdout);
  if (a.dry_run)
    return 0;
  if (auto st = admin::apply_crashkernel_plan(a.root, plan, reset->record); !st)
    return report_error(st.error());
  if (!plan.edits.empty() || !plan.commands.empty())
    std::printf("crashkernel= takes effect at the next boot\n");
  return 0;
}

} // namespace crashkit::cli
