#include "crashkit/admin/admin_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

namespace crashkit::admin {

Result<AdminLock> AdminLock::acquire(const std::string& path, int timeout_s) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return std::move(Error::from_errno(errno, "cannot open the lock").with_path(path));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return AdminLock(std::move(fd));
    if (errno != EWOULDBLOCK && errno != EINTR)
      return std::move(Error::from_errno(errno, "cannot lock").with_path(path));
    if (std::chrono::steady_clock::now() >= deadline)
      return std::move(Error(ErrorCategory::unsupported,
                             "another crashkit command has held the lock for " +
                                 std::to_string(timeout_s) + " s; try again when it finishes",
                             EBUSY)
                           .with_path(path));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace crashkit::admin
