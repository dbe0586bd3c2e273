#include "load_command.hpp"

#include <cstdio>

#include "crashkit/loader/cmdline.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',' || c == ' ') {
      if (!cur.empty())
        out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty())
    out.push_back(std::move(cur));
  return out;
}

} // namespace

CLI::App* add_load_command(CLI::App& app, LoadArgs& a) {
  auto* sub = app.add_subcommand("load", "load a kernel into the panic (kdump) or reboot slot");
  auto* panic = sub->add_flag("-p,--panic", a.panic, "arm the crash slot: boots on panic");
  auto* reboot = sub->add_flag("--reboot", a.reboot, "load the normal slot for a fast reboot");
  panic->excludes(reboot);
  sub->add_option("KERNEL", a.kernel, "kernel image (bzImage / Image)")->required();
  sub->add_option("--initrd,--initramfs", a.initrd, "initramfs to pass along");
  auto* append = sub->add_option("--append", a.append, "parameters added to the command line");
  auto* cmd =
      sub->add_option("--command-line", a.command_line, "the whole command line, used as given");
  auto* reuse = sub->add_flag("--reuse-cmdline", a.reuse_cmdline,
                              "start from /proc/cmdline; for --panic drop crashkernel=, "
                              "hugepages, quiet... and add capture defaults (irqpoll nr_cpus=1 "
                              "reset_devices ...)");
  cmd->excludes(append)->excludes(reuse);
  sub->add_option("--remove-params", a.remove_params,
                  "with --reuse-cmdline --panic: names to drop, replacing the default list")
      ->needs(reuse);
  sub->add_option("--capture-params", a.capture_params,
                  "with --reuse-cmdline --panic: parameters to add, replacing the defaults")
      ->needs(reuse);
  add_syscall_option(sub, a.syscall,
                     "auto (kexec_file_load; kexec_load only if the kernel lacks it), file "
                     "(kexec_file_load), legacy (kexec_load with crashkit's purgatory; --panic, "
                     "x86_64, refused under lockdown)");
  return sub;
}

CLI::Option* add_syscall_option(CLI::App* sub, std::string& value, const std::string& help) {
  return sub->add_option("--syscall", value, help)
      ->check(CLI::IsMember({"auto", "file", "legacy"}));
}

loader::SyscallChoice syscall_choice(const std::string& value) {
  return value == "file"     ? loader::SyscallChoice::file
         : value == "legacy" ? loader::SyscallChoice::legacy
                             : loader::SyscallChoice::automatic;
}

Status validate_load(const LoadArgs& a) {
  if (a.panic == a.reboot)
    return Error(ErrorCategory::usage, "load: give --panic or --reboot");
  if (a.reboot && (a.remove_params || a.capture_params))
    return Error(ErrorCategory::usage,
                 "load: --remove-params and --capture-params only apply to --panic");
  return {};
}

int run_load(const LoadArgs& a, loader::KexecSys& sys) {
  using namespace loader;
  const Slot slot = a.panic ? Slot::panic : Slot::reboot;
  LoadRequest req;
  req.slot = slot;
  req.kernel = a.kernel;
  if (!a.initrd.empty())
    req.initrd = a.initrd;
  req.syscall = syscall_choice(a.syscall);
  {
    CmdlineRequest creq;
    creq.slot = slot;
    creq.command_line = a.command_line;
    creq.reuse = a.reuse_cmdline;
    creq.append = a.append;
    if (a.remove_params)
      creq.remove = split_list(*a.remove_params);
    if (a.capture_params)
      creq.capture_params = tokenize_cmdline(*a.capture_params);
    auto cmdline = build_cmdline(sys, creq);
    if (!cmdline)
      return report_error(cmdline.error());
    req.cmdline = *cmdline;
  }

  auto st = load(sys, req);
  if (!st)
    return report_error(st.error());
  std::printf("%s kernel loaded with %s: %s%s%s\n", slot_name(slot), st->syscall, a.kernel.c_str(),
              a.initrd.empty() ? "" : " initrd ", a.initrd.c_str());
  std::printf("command line: %s\n", st->cmdline.c_str());
  return 0;
}

} // namespace crashkit::cli
