#pragma once
/// `crashkit start` and `stop`: arming and disarming kdump as crashkit.service does at boot.
/// start() = config valid → crash memory reserved → a raw target's last dump salvaged → capture
/// initramfs current → panic kernel loaded with the capture command line. Nothing is loaded when
/// any step before the load fails, and a failed load reports whether the previous panic kernel
/// is gone. start_service() is the whole verb: crashkernel= upkeep first, start(), then the
/// verdict on a pending `crashkit test`.

#include <functional>
#include <optional>
#include <string>

#include "crashkit/admin/crashkernel_upkeep.hpp"
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

/// What start_service() did, in the order the verb reports it.
struct ServiceStart {
  UpkeepReport upkeep; ///< keep_crashkernel_current's outcome
  Result<StartReport> armed = Error(ErrorCategory::internal, "not started"); ///< start()'s
  std::optional<std::string> test; ///< test_status_line (self_test.hpp), when there is one
};

/// The start verb: keeps crashkernel= current first, whatever the arming does (a boot without
/// crashkernel=, the entry of a kernel installed since, is exactly when the next boot needs the
/// value written; default_crashkernel is the value for `crashkernel auto`, "" when the machine
/// has none); then start(); then judges a `crashkit test` pending from the boot before, so
/// crashkit.service's journal says whether it worked: after start, which salvages a raw
/// target's dump into path/; when start failed, a raw target may still hold the dump, so the
/// test waits for a start that gets that far.
ServiceStart start_service(loader::KexecSys& sys, const StartRequest& req,
                           const std::string& default_crashkernel);

/// Disarms kdump (unload the panic slot). Unloading nothing succeeds.
Status stop(loader::KexecSys& sys);

} // namespace crashkit::admin
