#include "crashkit/admin/service.hpp"

#include <cerrno>

#include "crashkit/admin/dump_location.hpp"
#include "crashkit/admin/raw_salvage.hpp"
#include "crashkit/admin/self_test.hpp"
#include "crashkit/loader/cmdline.hpp"
#include "crashkit/loader/system_state.hpp"

namespace crashkit::admin {

Result<std::string> capture_cmdline(loader::KexecSys& sys, const conf::Config& c) {
  auto text = CK_TRY_CONTEXT(sys.read_file(loader::kPathCmdline), "the capture command line");
  loader::CmdlineFilter f = loader::default_panic_filter();
  for (const auto& name : c.remove.value)
    f.remove.push_back(name);
  // append entries replace same-named defaults (nr_cpus=2 beats nr_cpus=1).
  for (const auto& p : c.append.value)
    f.append.push_back(p);
  return loader::filter_cmdline(loader::join_cmdline(loader::tokenize_cmdline(text)), f);
}

std::string capture_kernel_path(const conf::Config& c, const std::string& root,
                                const std::string& release) {
  const auto& k = c.capture_kernel.value;
  if (!k.running)
    return root + k.path;
  return root + "/boot/vmlinuz-" + release;
}

Result<StartReport> start(loader::KexecSys& sys, const StartRequest& req) {
  auto state = CK_TRY(loader::probe_system(sys));
  if (!state.crash_supported)
    return Error(ErrorCategory::unsupported,
                 "this kernel cannot load a panic kernel (no /sys/kernel/kexec_crash_loaded)");
  const auto bytes = state.crash_bytes();
  if (bytes && *bytes == 0)
    return Error(ErrorCategory::unsupported,
                 "no crash memory is reserved: run `crashkit reset-crashkernel` (or add "
                 "crashkernel= to the kernel command line) and reboot",
                 EADDRNOTAVAIL);

  StartReport rep;
  rep.salvage = CK_TRY_CONTEXT(
      salvage_raw_dump(req.config, req.root, req.stamp),
      "the raw target " + req.config.target.value.device.str() +
          " holds a dump that could not be saved, so kdump was not armed (a new crash would "
          "overwrite it); copy it with `crashkit-capture -R OUT < DEVICE`, then clear its first "
          "4 KiB");
  // The capture refuses a PATH others could tamper with; arming a capture that will save nothing
  // would be a false "armed".
  CK_TRY_CONTEXT(check_dump_path(req.config, req.root),
                 "kdump was not armed: the capture would save no dump in the dump directory");
  rep.kernel = capture_kernel_path(req.config, req.root, req.kernel_release);
  rep.initrd = CK_TRY_CONTEXT(req.ensure_initramfs(req.config), "capture initramfs");

  loader::LoadRequest lreq;
  lreq.slot = loader::Slot::panic;
  lreq.kernel = rep.kernel;
  lreq.initrd = rep.initrd;
  lreq.cmdline = CK_TRY(capture_cmdline(sys, req.config));
  lreq.syscall = req.syscall;
  rep.load = CK_TRY(loader::load(sys, lreq));
  return rep;
}

ServiceStart start_service(loader::KexecSys& sys, const StartRequest& req,
                           const std::string& default_crashkernel) {
  ServiceStart out;
  out.upkeep = keep_crashkernel_current(req.config, req.root, default_crashkernel);
  out.armed = start(sys, req);
  if (out.armed || req.config.target.value.kind != conf::Target::Kind::raw)
    out.test = test_status_line(sys, req.root, &req.config);
  return out;
}

Status stop(loader::KexecSys& sys) {
  return loader::unload(sys, loader::Slot::panic);
}

} // namespace crashkit::admin
