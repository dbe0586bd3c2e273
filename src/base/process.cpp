#include "crashkit/base/process.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>

extern char** environ;

namespace crashkit {

Result<int> spawn_wait(const std::vector<std::string>& argv) {
  if (argv.empty())
    return Error(ErrorCategory::usage, "empty command");
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0)
    return std::move(Error::from_errno(rc, "cannot run it").with_path(argv[0]));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return std::move(Error::from_errno(errno, "waitpid").with_path(argv[0]));
  if (WIFSIGNALED(status))
    return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

} // namespace crashkit
