#pragma once
/// `crashkit start` and `stop`: arming and disarming kdump as crashkit.service does at boot.
/// The verb first keeps crashkernel= current (crashkernel_upkeep.hpp: it only changes the next
/// boot, whatever happens here), then start = config valid → crash memory reserved → capture
/// initramfs current → panic kernel loaded with the capture command line. Nothing is loaded when
/// any step before the load fails, and a failed load reports whether the previous panic kernel is
/// gone.

#include <functional>
#include <string>

#include "crashkit/admin/raw_salvage.hpp"
#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"
#include "crashkit/loader/kexec_loader.hpp"
#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::admin {

struct StartRequest {
  conf::Config config;
  std::string root;           ///< prefix for files (kernel images); "" = the live system
  std::string kernel_release; ///< uname -r, for `capture_kernel running`
  /// Returns the capture initramfs for the config (rebuilding it when stale). Injected so the
  /// orchestration is testable without building images.
  std::function<Result<std::string>(const conf::Config&)> ensure_initramfs;
  loader::SyscallChoice syscall = loader::SyscallChoice::automatic;
  /// Name of the directory a salvaged raw dump goes to (UTC YYYY-MM-DD-HHMMSS).
  std::string stamp;
};

struct StartReport {
  SalvageOutcome salvage; ///< a raw target's stream from the last crash, if there was one
  std::string kernel;
  std::string initrd;
  loader::LoadReport load;
};

/// The capture kernel's command line: /proc/cmdline through the panic filter, the config's
/// `remove` names dropped as well, then the config's `append` (which may override the defaults,
/// e.g. nr_cpus=2). Errors: no_input when /proc/cmdline is unreadable.
Result<std::string> capture_cmdline(loader::KexecSys& sys, const conf::Config& c);

/// The kernel image for `capture_kernel`: running → ROOT/boot/vmlinuz-RELEASE.
std::string capture_kernel_path(const conf::Config& c, const std::string& root,
                                const std::string& release);

/// Arms kdump: a raw target's dump from the last crash is salvaged first (a stream cut short
/// as an incomplete dump, then armed as usual); if reading or copying it fails kdump is NOT
/// armed (a new crash would overwrite the only copy) and the message says how to copy it by
/// hand. Errors: the first failing step's error, with advice (no reservation names
/// crashkernel= and `crashkit reset-crashkernel`).
Result<StartReport> start(loader::KexecSys& sys, const StartRequest& req);

/// Disarms kdump (unload the panic slot). Unloading nothing succeeds.
Status stop(loader::KexecSys& sys);

} // namespace crashkit::admin
