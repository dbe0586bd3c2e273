#pragma once
// The crashkit command line: global options plus one request struct per subcommand.

#include <string>
#include <variant>

#include "config_commands.hpp"
#include "crashkit/base/result.hpp"
#include "default_crashkernel_command.hpp"
#include "estimate_command.hpp"
#include "exec_command.hpp"
#include "list_command.hpp"
#include "load_command.hpp"
#include "rebuild_command.hpp"
#include "reset_crashkernel_command.hpp"
#include "service_commands.hpp"
#include "showmem_command.hpp"
#include "status_command.hpp"
#include "unload_command.hpp"

namespace crashkit::cli {

struct Invocation {
  bool verbose = false;
  std::string sysroot;     ///< read /proc and /sys below this directory (tests)
  int lock_timeout_s = 60; ///< how long a changing command waits for the admin lock
  std::variant<LoadArgs, UnloadArgs, StatusArgs, ShowmemArgs, ExecArgs, CheckConfigArgs, ImportArgs,
               ListArgs, ResetCrashkernelArgs, DefaultCrashkernelArgs, RebuildArgs, ServiceArgs,
               EstimateArgs>
      command;
};

/// Parses argv. Errors: usage with CLI11's message; --help/--version come back as an Error
/// whose path() is "help" and what() the text to print on stdout.
Result<Invocation> parse_options(int argc, char** argv);

/// Runs the chosen subcommand; returns the exit code. A subcommand that changes the system
/// runs holding the admin lock of the tree it works on (admin/admin_lock.hpp).
int run(const Invocation& inv, loader::KexecSys& sys);

} // namespace crashkit::cli
