#include "crashkit/admin/admin_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "crashkit/base/io.hpp"
#include "crashkit/base/path.hpp"

namespace crashkit::admin {
namespace {

// The pid the holder wrote, for the message; empty when the file holds none (a holder that is
// not crashkit, or one between its flock and its write).
std::string holder_pid(int fd, const std::string& path) {
  char buf[24] = {};
  auto n = pread_some(fd, buf, sizeof buf - 1, 0, path);
  if (!n || *n == 0)
    return {};
  std::string s(buf, *n);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s.find_first_not_of("0123456789") == std::string::npos ? s : std::string();
}

} // namespace

std::string lock_path(const std::string& root) {
  return root + kLockPath;
}

Result<AdminLock> AdminLock::acquire(const std::string& path, int timeout_s) {
  const std::string dir = dirname_of(path);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Error::from_errno(errno, "cannot create the lock's directory").with_path(dir);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid())
    return Error::from_errno(errno, "cannot open the lock").with_path(path);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd.get(), 0) != 0)
        return Error::from_errno(errno, "cannot write the lock").with_path(path);
      CK_TRY(pwrite_full(fd.get(), pid.data(), pid.size(), 0, path));
      return AdminLock(std::move(fd));
    }
    if (errno != EWOULDBLOCK && errno != EINTR)
      return Error::from_errno(errno, "cannot lock").with_path(path);
    if (std::chrono::steady_clock::now() >= deadline) {
      const std::string pid = holder_pid(fd.get(), path);
      return Error(ErrorCategory::unsupported,
                   "locked by " + (pid.empty() ? "another process" : "pid " + pid) +
                       ": another crashkit command has held the lock for " +
                       std::to_string(timeout_s) + " s; try again when it finishes",
                   EBUSY)
          .with_path(path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

} // namespace crashkit::admin
