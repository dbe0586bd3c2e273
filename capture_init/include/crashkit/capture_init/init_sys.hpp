#pragma once
/// The capture init's only door to the privileged parts of the system: mounts, module loading,
/// device lookup, free space, clocks, hooks, and the final reboot. run_init() takes an InitSys&
/// so tests drive the whole orchestration with a fake (temporary directories as the target,
/// recorded calls instead of reboot(2)). Plain file work (mkdir, writing the dump) is done
/// directly on the paths InitPaths names.

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::capture_init {

/// Space of the filesystem holding a directory.
struct FsSpace {
  std::uint64_t available = 0; ///< bytes an unprivileged writer may still use (f_bavail)
};

/// How the machine ends the capture.
enum class PowerAction { reboot, halt, poweroff };

/// Not thread-safe.
class InitSys {
public:
  virtual ~InitSys() = default;

  /// mount(2). The error carries errno (EBUSY when already mounted).
  virtual Status mount(const std::string& source, const std::string& target,
                       const std::string& fstype, unsigned long flags, const std::string& data) = 0;

  /// umount(2); the error carries errno.
  virtual Status unmount(const std::string& target) = 0;

  /// Points standard input, output and error at the console (/dev/console, else /dev/kmsg for
  /// output). Best effort.
  virtual void attach_console() = 0;

  /// Loads one uncompressed module file (`crashkit rebuild` stores them decompressed). Already
  /// loaded is success. Errors carry the errno of the insertion. The real one removes the file
  /// after a successful insert: its memory goes back to the capture.
  virtual Status load_module(const std::string& path) = 0;

  /// The block device `spec` names right now: "UUID=..", "LABEL=..", "PARTUUID=.." are looked
  /// up with a fresh probe on every call, anything else is a path that must exist.
  /// Errors: no_input while it is not (yet) there.
  virtual Result<std::string> find_device(const std::string& spec) = 0;

  /// Filesystem type found on a device ("ext4"). Errors: no_input when nothing is recognised.
  virtual Result<std::string> probe_fstype(const std::string& device) = 0;

  /// What the device carries that crashkit did not write ("ext4 filesystem UUID=..."), read
  /// before a raw target's first byte is written; nullopt when nothing or crashkit's own.
  /// Errors: the device cannot be opened or probed. The real one: probe_foreign_signature
  /// (device_signature.hpp).
  virtual Result<std::optional<std::string>> foreign_signature(const std::string& device) = 0;

  /// statvfs(2) of a directory.
  virtual Result<FsSpace> space(const std::string& dir) = 0;

  /// Monotonic seconds (for timeouts and durations).
  virtual double monotonic() = 0;
  /// Wall clock (dump directory names and report time).
  virtual std::time_t wall_time() = 0;
  virtual void sleep_ms(unsigned ms) = 0;

  /// Runs argv[0] with argv, no shell, and waits, at most timeout_s seconds when given: then
  /// it is killed with everything it started. Returns the exit status (128 + signal when
  /// killed). Errors: spawning failed; errno ETIMEDOUT when the timeout killed it.
  virtual Result<int> run(const std::vector<std::string>& argv,
                          std::optional<double> timeout_s) = 0;

  /// sync(2).
  virtual void sync() = 0;
  /// reboot(2) (the caller has synced: run_init's final action does before unmounting);
  /// returns only on failure.
  virtual Status power(PowerAction a) = 0;
  /// Replaces the process with an interactive shell; returns only when there is none.
  virtual Status exec_shell() = 0;
};

/// The running kernel.
class RealInitSys final : public InitSys {
public:
  Status mount(const std::string& source, const std::string& target, const std::string& fstype,
               unsigned long flags, const std::string& data) override;
  Status unmount(const std::string& target) override;
  void attach_console() override;
  Status load_module(const std::string& path) override;
  Result<std::string> find_device(const std::string& spec) override;
  Result<std::string> probe_fstype(const std::string& device) override;
  Result<std::optional<std::string>> foreign_signature(const std::string& device) override;
  Result<FsSpace> space(const std::string& dir) override;
  double monotonic() override;
  std::time_t wall_time() override;
  void sleep_ms(unsigned ms) override;
  Result<int> run(const std::vector<std::string>& argv, std::optional<double> timeout_s) override;
  void sync() override;
  Status power(PowerAction a) override;
  Status exec_shell() override;
};

} // namespace crashkit::capture_init
