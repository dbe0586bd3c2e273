#include "service_commands.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "config_commands.hpp"
#include "crashkit/admin/default_crashkernel.hpp"
#include "crashkit/admin/self_test.hpp"
#include "crashkit/admin/service.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "crashkit/initramfs/builder.hpp"
#include "exit_codes.hpp"
#include "load_command.hpp"
#include "rebuild_command.hpp"

namespace crashkit::cli {
namespace {

using Verb = ServiceArgs::Verb;

int do_start(const ServiceArgs& a, loader::KexecSys& sys) {
  auto config = load_config_or_report(a.root, "nothing was loaded");
  if (!config)
    return kExitBadConfig;
  admin::StartRequest req;
  req.config = std::move(*config);
  req.root = a.root;
  req.kernel_release = admin::running_release();
  req.stamp = admin::utc_stamp_now();
  req.syscall = syscall_choice(a.syscall);
  // Said after the crashkernel= upkeep, which start_service does first.
  std::string initramfs_line;
  req.ensure_initramfs = [&](const conf::Config& c) -> Result<std::string> {
    auto out = CK_TRY(initramfs::rebuild_if_needed(build_request(a.root, req.kernel_release), c,
                                                   /*force=*/false));
    for (const auto& w : out.warnings)
      std::fprintf(stderr, "crashkit: warning: %s\n", w.c_str());
    initramfs_line =
        "capture initramfs: " + out.image + " (" + (out.rebuilt ? "rebuilt" : "up to date") + ")\n";
    return out.image;
  };
  std::string default_value;
  if (auto d = admin::default_crashkernel(admin::running_machine()))
    default_value = *d;
  const auto done = admin::start_service(sys, req, default_value);
  if (done.upkeep.changed)
    std::fputs(done.upkeep.diff.c_str(), stdout);
  if (!done.upkeep.message.empty())
    std::printf("%s\n", done.upkeep.message.c_str());
  std::fputs(initramfs_line.c_str(), stdout);
  if (done.test)
    std::printf("%s\n", done.test->c_str());
  const auto& rep = done.armed;
  if (!rep)
    return report_error(rep.error());
  if (const auto& s = rep->salvage; s.found) {
    if (s.complete)
      std::printf("saved the dump from the raw target to %s\n", s.vmcore.c_str());
    else if (!s.vmcore.empty())
      std::printf("saved an incomplete dump from the raw target to %s (%s)\n", s.vmcore.c_str(),
                  s.cut.c_str());
    else
      std::printf("the raw target held the start of a dump stream and no dump data (%s)\n",
                  s.cut.c_str());
    if (!s.warning.empty())
      std::fprintf(stderr, "crashkit: warning: %s\n", s.warning.c_str());
  }
  std::printf("kdump armed with %s: %s, initrd %s\n", rep->load.syscall, rep->kernel.c_str(),
              rep->initrd.c_str());
  std::printf("capture command line: %s\n", rep->load.cmdline.c_str());
  return 0;
}

int do_stop(loader::KexecSys& sys) {
  auto st = admin::stop(sys);
  if (!st)
    return report_error(st.error());
  std::printf("kdump disarmed (panic kernel unloaded)\n");
  return 0;
}

int do_test(const ServiceArgs& a, loader::KexecSys& sys) {
  if (!a.force) {
    std::printf("This crashes the machine NOW to prove that kdump saves a dump; it reboots "
                "after the capture.\nType 'yes' to continue: ");
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "yes") {
      std::printf("not crashed\n");
      return kExitBadConfig;
    }
  }
  auto st = admin::run_test(sys, a.root, admin::utc_stamp_now());
  return report_error(st ? Error(ErrorCategory::internal, "still running after sysrq-c")
                         : st.error());
}

} // namespace

void add_service_commands(CLI::App& app, ServiceArgs& a) {
  struct Def {
    const char* name;
    Verb verb;
    const char* help;
  };
  const Def defs[] = {
      {"start", Verb::start,
       "arm kdump: check the config and the crashkernel= reservation, rebuild the capture "
       "initramfs when stale, load the panic kernel"},
      {"stop", Verb::stop, "disarm kdump (unload the panic kernel)"},
      {"restart", Verb::restart, "stop, then start"},
      {"reload", Verb::reload,
       "load again with the current config and kernel (the kernel drops the armed one first: "
       "a failed reload says kdump is disarmed)"},
      {"test", Verb::test,
       "crash the machine now to prove kdump works; the next `crashkit status` reports the "
       "dump"},
  };
  for (const auto& d : defs) {
    auto* sub = app.add_subcommand(d.name, d.help);
    sub->add_option("--root", a.root, "configuration, images and state below DIR")->group("");
    if (d.verb == Verb::start || d.verb == Verb::restart || d.verb == Verb::reload)
      add_syscall_option(sub, a.syscall, "auto|file|legacy, as for load");
    if (d.verb == Verb::test)
      sub->add_flag("-f,--force", a.force, "do not ask for confirmation");
    const Verb v = d.verb;
    sub->callback([&a, v] { a.verb = v; });
  }
}

int run_service(const ServiceArgs& a, loader::KexecSys& sys) {
  switch (a.verb) {
  case Verb::start:
  case Verb::reload:
    return do_start(a, sys);
  case Verb::stop:
    return do_stop(sys);
  case Verb::restart: {
    if (int rc = do_stop(sys); rc != 0)
      return rc;
    return do_start(a, sys);
  }
  case Verb::test:
    return do_test(a, sys);
  }
  return 70;
}

} // namespace crashkit::cli
