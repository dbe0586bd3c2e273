#pragma once
/// Running a helper program.

#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit {

/// Runs argv[0] (a path: no PATH search, no shell) with argv and the current environment, and
/// waits for it. Returns its exit status, or minus the signal number when a signal killed it.
/// With a timeout the program runs in a process group of its own; when it has not exited
/// after timeout_s seconds the whole group gets SIGKILL (what it started goes too) and the
/// result is an io error with errno ETIMEDOUT.
/// Errors: usage for an empty argv; from_errno of posix_spawn ("cannot run it") or waitpid,
/// naming argv[0].
Result<int> spawn_wait(const std::vector<std::string>& argv,
                       std::optional<double> timeout_s = std::nullopt);

} // namespace crashkit
