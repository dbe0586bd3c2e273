#include "estimate_command.hpp"

#include <cstdio>

#include "config_commands.hpp"
#include "crashkit/admin/default_crashkernel.hpp"
#include "crashkit/admin/estimate.hpp"
#include "crashkit/admin/service.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "crashkit/initramfs/builder.hpp"
#include "crashkit/loader/system_state.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_estimate_command(CLI::App& app, EstimateArgs& a) {
  auto* sub = app.add_subcommand(
      "estimate", "crash memory the capture needs (kernel image, struct pages, kernel runtime, "
                  "initramfs, crashkit-capture) against the reservation");
  sub->add_option("--root", a.root, "configuration and images below DIR");
  sub->add_option("--kernel", a.kernel, "capture kernel image (default: from the config)");
  sub->add_option("--initramfs", a.initramfs,
                  "capture initramfs (default: /var/lib/crashkit/initramfs-RELEASE.img)");
  return sub;
}

Result<admin::Estimate> estimate_for(const conf::Config& config, const std::string& root,
                                     std::string kernel, std::string initramfs,
                                     std::uint64_t reserved) {
  const std::string release = admin::running_release();
  if (kernel.empty())
    kernel = admin::capture_kernel_path(config, root, release);
  if (initramfs.empty())
    initramfs = initramfs::default_image_path(root, release);
  auto e = admin::estimate_capture_memory(kernel, initramfs, reserved);
  if (!e) {
    Error err = std::move(e).error();
    if (err.sys_errno() == ENOENT && err.path() == initramfs)
      err.context_inplace("no capture initramfs yet: run `crashkit rebuild` first");
    return err;
  }
  return e;
}

int run_estimate(const EstimateArgs& a, loader::KexecSys& sys) {
  auto config = load_config_or_report(a.root, "no estimate");
  if (!config)
    return kExitBadConfig;
  auto state = loader::probe_system(sys);
  if (!state)
    return report_error(state.error());
  const std::uint64_t reserved = state->crash_bytes().value_or(0);
  auto e = estimate_for(*config, a.root, a.kernel, a.initramfs, reserved);
  if (!e)
    return report_error(e.error());
  std::fputs(admin::format_estimate(*e, reserved).c_str(), stdout);
  return 0;
}

} // namespace crashkit::cli
