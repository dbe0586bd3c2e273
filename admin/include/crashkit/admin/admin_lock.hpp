#pragma once
/// One crashkit admin command at a time: every command that changes the system (start, stop,
/// restart, reload, test, load, unload, exec, rebuild, reset-crashkernel, import) holds an
/// exclusive flock on ROOT/run/crashkit.lock for its whole run, so a udev-triggered reload and an
/// administrator's rebuild cannot interleave their unload and load or their image writes.

#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::admin {

inline constexpr const char* kLockPath = "/run/crashkit.lock";

/// The lock of the tree at root: ROOT/run/crashkit.lock ("" = this system's /run/crashkit.lock).
std::string lock_path(const std::string& root);

class AdminLock {
public:
  /// Takes the lock, waiting at most timeout_s seconds, and writes this process's pid into the
  /// file for the next waiter's message. Creates the file's directory when missing (a --root
  /// tree without run/). Errors: from_errno of creating the file (EACCES → no_input), or
  /// category unsupported with EBUSY and a message naming the lock and the pid holding it
  /// when another command keeps it past the timeout. Thread-safe per process only in that two
  /// AdminLocks on the same path exclude each other (flock is per open file).
  static Result<AdminLock> acquire(const std::string& path = kLockPath, int timeout_s = 60);

private:
  explicit AdminLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_; ///< closing releases the lock
};

} // namespace crashkit::admin
