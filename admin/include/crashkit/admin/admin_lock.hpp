#pragma once
/// One crashkit admin command at a time: start, stop, rebuild, test... hold an exclusive flock
/// on /run/crashkit.lock, so a udev-triggered reload and an administrator's restart cannot
/// interleave their unload and load.

#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::admin {

inline constexpr const char* kLockPath = "/run/crashkit.lock";

class AdminLock {
 public:
  /// Takes the lock, waiting at most timeout_s seconds. Errors: io (cannot create the file),
  /// or category unsupported with a message naming the lock when another command holds it.
  static Result<AdminLock> acquire(const std::string& path = kLockPath, int timeout_s = 60);

 private:
  explicit AdminLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  ///< closing releases the lock
};

}  // namespace crashkit::admin
