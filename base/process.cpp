#include "crashkit/base/process.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

extern char** environ;

namespace crashkit {
namespace {

struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { ::posix_spawnattr_init(&attr); }
  ~SpawnAttr() { ::posix_spawnattr_destroy(&attr); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
};

int decode(int status) {
  if (WIFSIGNALED(status))
    return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

} // namespace

Result<int> spawn_wait(const std::vector<std::string>& argv, std::optional<double> timeout_s) {
  if (argv.empty())
    return Error(ErrorCategory::usage, "empty command");
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  SpawnAttr sa;
  if (timeout_s) {
    // A group of its own, so a timeout kills what the program started as well.
    ::posix_spawnattr_setpgroup(&sa.attr, 0);
    ::posix_spawnattr_setflags(&sa.attr, POSIX_SPAWN_SETPGROUP);
  }
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], nullptr, &sa.attr, args.data(), environ);
  if (rc != 0)
    return Error::from_errno(rc, "cannot run it").with_path(argv[0]);
  int status = 0;
  if (!timeout_s) {
    while (::waitpid(pid, &status, 0) < 0)
      if (errno != EINTR)
        return Error::from_errno(errno, "waitpid").with_path(argv[0]);
    return decode(status);
  }
  using Clock = std::chrono::steady_clock;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(*timeout_s > 0 ? *timeout_s : 0));
  for (;;) {
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid)
      return decode(status);
    if (got < 0 && errno != EINTR)
      return Error::from_errno(errno, "waitpid").with_path(argv[0]);
    if (Clock::now() >= deadline)
      break;
    const struct timespec tick { 0, 20 * 1000 * 1000 };
    ::nanosleep(&tick, nullptr);
  }
  ::kill(-pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  char secs[32];
  std::snprintf(secs, sizeof secs, "%g", *timeout_s);
  return Error(ErrorCategory::io, std::string("did not finish within ") + secs + " s; killed",
               ETIMEDOUT)
      .with_path(argv[0]);
}

} // namespace crashkit
