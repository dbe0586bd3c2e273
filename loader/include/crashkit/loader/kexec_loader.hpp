#pragma once
/// Arming and disarming a kexec slot (kexec_file_load(2), or kexec_load(2) with crashkit's
/// purgatory), the command line the loaded kernel gets, and rebooting into the reboot slot.

#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/loader/kexec_sys.hpp"
#include "crashkit/loader/legacy_loader.hpp"
#include "crashkit/loader/load_advice.hpp"

namespace crashkit::loader {

/// Which syscall loads: auto (kexec_file_load, falling back to kexec_load only when the kernel
/// lacks kexec_file_load, ENOSYS), file, or legacy (kexec_load with crashkit's purgatory; panic
/// slot, x86_64).
enum class SyscallChoice { automatic, file, legacy };

/// How the command line is made.
struct CmdlineRequest {
  Slot slot = Slot::panic;
  /// --command-line: used as is (no reuse, no filter).
  std::optional<std::string> command_line;
  /// --reuse-cmdline: start from /proc/cmdline; for the panic slot apply the filter.
  bool reuse = false;
  /// Overrides of default_panic_filter()'s lists (each replaces its list when set).
  std::optional<std::vector<std::string>> remove;
  std::optional<std::vector<std::string>> capture_params;
  /// --append: added last, verbatim.
  std::string append;
};

/// Builds the command line. Errors: no_input when /proc/cmdline is unreadable.
Result<std::string> build_cmdline(KexecSys& sys, const CmdlineRequest& req);

struct LoadRequest {
  Slot slot = Slot::panic;
  std::string kernel;
  std::optional<std::string> initrd;
  std::string cmdline; ///< without the NUL; the loader adds it
  SyscallChoice syscall = SyscallChoice::automatic;
  /// kexec_load only: store a wrong digest so the purgatory halts at panic time (tests).
  bool test_corrupt_digest = false;
};

/// What load() did.
struct LoadReport {
  const char* syscall = "kexec_file_load"; ///< or "kexec_load"
  std::string cmdline;                     ///< as the loaded kernel gets it
};

/// Loads req.kernel into its slot. Before a panic load it refuses, without calling the kernel,
/// when no crash memory is reserved or the image files alone exceed it: the kernel frees the
/// armed crash kernel before trying, so a doomed attempt would disarm the machine. Errors carry
/// the errno and one sentence of advice; after a failed panic load the message says whether the
/// crash slot is now empty. For x86_64 a kernel that is not a bzImage, or is shorter than its
/// header declares, is refused (data) before either syscall. --syscall legacy (and the ENOSYS
/// fallback) is refused under lockdown (no_input, EPERM) and for the reboot slot (unsupported).
Result<LoadReport> load(KexecSys& sys, const LoadRequest& req);

/// Unloads the slot: kexec_file_load with KEXEC_FILE_UNLOAD, or kexec_load with no segments on a
/// kernel without kexec_file_load (ENOSYS). Unloading an empty slot succeeds.
Status unload(KexecSys& sys, Slot slot);

/// Reboots now into the kernel in the reboot slot (sync, then reboot(LINUX_REBOOT_CMD_KEXEC)),
/// like `systemctl kexec` without the service manager. Errors: category `unsupported` when no
/// kernel is loaded for reboot (nothing is done); the errno of reboot() otherwise. Returns only
/// on failure.
Status exec_reboot_kernel(KexecSys& sys);

const char* slot_name(Slot s);

} // namespace crashkit::loader
