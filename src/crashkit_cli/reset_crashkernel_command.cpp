#include "reset_crashkernel_command.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "crashkit/admin/default_crashkernel.hpp"
#include "crashkit/bootcfg/reset_plan.hpp"
#include "exit_codes.hpp"

extern char** environ;

namespace crashkit::cli {
namespace {

// Runs argv without a shell and waits for it.
Status run_command(const std::vector<std::string>& argv) {
  std::vector<char*> cargv;
  for (const auto& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = 0;
  int err = ::posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ);
  if (err != 0)
    return Error::from_errno(err, "cannot run it").with_path(argv[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return Error::from_errno(errno, "waitpid").with_path(argv[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return {};
  std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  return Error(ErrorCategory::unsupported,
               how + "; the files are written, regenerate the boot configuration by hand")
      .with_path(argv[0]);
}

} // namespace

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
  // No computed default exists yet; the administrator names the value.
  std::string fallback;
  if (!a.value) {
    auto d = admin::default_crashkernel(admin::running_machine());
    if (!d) return report_error(d.error());
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
  if (auto st = bootcfg::apply_plan(*plan); !st)
    return report_error(st.error());
  for (const auto& c : plan->commands) {
    if (!c.skip_reason.empty())
      continue;
    if (auto st = run_command(c.argv); !st)
      return report_error(st.error());
  }
  if (!plan->edits.empty() || !plan->commands.empty())
    std::printf("crashkernel= takes effect at the next boot\n");
  return 0;
}

} // namespace crashkit::cli
