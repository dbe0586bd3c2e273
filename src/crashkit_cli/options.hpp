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

/// The subcommands' requests, in --help order (options.cpp's table has one row for each).
using Command = std::variant<LoadArgs, UnloadArgs, StatusArgs, ShowmemArgs, ExecArgs,
                             CheckConfigArgs, ImportArgs, ListArgs, DefaultCrashkernelArgs,
                             ServiceArgs, ResetCrashkernelArgs, RebuildArgs, EstimateArgs>;

struct Invocation {
  /// Non-empty when --help or --version was given (for the program or a subcommand): the text
  /// to print on stdout, exit 0; nothing else is set.
  std::string help;
  bool verbose = false;
  std::string sysroot;     ///< read /proc and /sys below this directory (tests)
  int lock_timeout_s = 60; ///< how long a changing command waits for the admin lock
  Command command;
};

/// Parses argv. Errors: usage with CLI11's message (or a subcommand's own check).
Result<Invocation> parse_options(int argc, char** argv);

/// Runs the chosen subcommand; returns the exit code. A subcommand that changes the system
/// runs holding the admin lock of the tree it works on (admin/admin_lock.hpp).
int run(const Invocation& inv, loader::KexecSys& sys);

} // namespace crashkit::cli
