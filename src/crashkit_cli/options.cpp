#include "options.hpp"

#include <unistd.h>

#include <cerrno>
#include <optional>
#include <type_traits>

#include "crashkit/admin/admin_lock.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {
namespace {

// The subcommands that change the system: kexec state, the images, boot configuration, state
// and configuration files. The rest only read (status, list, check-config, showmem, estimate,
// get-default-crashkernel) and take no lock.
template <class T, class... U> constexpr bool is_one_of = (std::is_same_v<T, U> || ...);
template <class T>
constexpr bool kChangesSystem = is_one_of<T, LoadArgs, UnloadArgs, ExecArgs, ServiceArgs,
                                          RebuildArgs, ResetCrashkernelArgs, ImportArgs>;

// The lock of the tree the command works on: its --root, or this system's.
template <class T> std::string lock_tree(const T& args) {
  if constexpr (requires { args.root; })
    return args.root;
  else
    return {};
}

// The admin lock for the whole command. An unprivileged caller cannot create this system's
// /run/crashkit.lock, nor change anything the lock guards (kexec needs CAP_SYS_BOOT, the
// images and boot files are root's): it runs unlocked and fails on its own permission check.
Result<std::optional<admin::AdminLock>> hold_lock(const std::string& root, int timeout_s) {
  auto lock = admin::AdminLock::acquire(admin::lock_path(root), timeout_s);
  if (lock)
    return std::optional<admin::AdminLock>(std::move(*lock));
  if (root.empty() && lock.error().sys_errno() == EACCES && ::geteuid() != 0)
    return std::optional<admin::AdminLock>();
  return std::move(lock).error();
}

} // namespace

Result<Invocation> parse_options(int argc, char** argv) {
  Invocation inv;
  LoadArgs load;
  UnloadArgs unload;
  StatusArgs status;
  ShowmemArgs showmem;
  ExecArgs exec;
  CheckConfigArgs check_config;
  ImportArgs import;
  ListArgs list;
  DefaultCrashkernelArgs default_ck;
  ServiceArgs service;
  ResetCrashkernelArgs reset;
  RebuildArgs rebuild;
  EstimateArgs estimate;
  CLI::App app{"crashkit: arm a capture kernel for kernel crashes (kdump) and load kernels for "
               "fast reboots"};
  app.set_version_flag("--version", "crashkit 0.1");
  app.require_subcommand(1);
  app.add_flag("-v,--verbose", inv.verbose, "debug messages on stderr");
  app.add_option("--sysroot", inv.sysroot, "read /proc and /sys below DIR (testing)")->group("");
  app.add_option("--lock-timeout", inv.lock_timeout_s,
                 "seconds to wait for another crashkit command to finish (default 60)")
      ->check(CLI::Range(0, 86400));
  auto* load_app = add_load_command(app, load);
  auto* unload_app = add_unload_command(app, unload);
  auto* status_app = add_status_command(app, status);
  auto* showmem_app = add_showmem_command(app, showmem);
  auto* exec_app = add_exec_command(app, exec);
  auto* check_app = add_check_config_command(app, check_config);
  auto* import_app = add_import_command(app, import);
  auto* list_app = add_list_command(app, list);
  auto* default_ck_app = add_default_crashkernel_command(app, default_ck);
  add_service_commands(app, service);
  auto* reset_app = add_reset_crashkernel_command(app, reset);
  auto* rebuild_app = add_rebuild_command(app, rebuild);
  auto* estimate_app = add_estimate_command(app, estimate);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return std::move(Error(ErrorCategory::usage, app.help()).with_path("help"));
  } catch (const CLI::CallForVersion&) {
    return std::move(Error(ErrorCategory::usage, "crashkit 0.1").with_path("help"));
  } catch (const CLI::ParseError& e) {
    // Subcommand help is thrown from inside the subcommand; CLI11 names it by exit code 0.
    if (e.get_exit_code() == 0) {
      const CLI::App* sub = &app;
      for (const auto* s : app.get_subcommands({}))
        if (s->parsed())
          sub = s;
      return std::move(Error(ErrorCategory::usage, sub->help()).with_path("help"));
    }
    return Error(ErrorCategory::usage, e.what());
  }
  if (load_app->parsed()) {
    CK_TRY(validate_load(load));
    inv.command = load;
  } else if (unload_app->parsed()) {
    inv.command = unload;
  } else if (status_app->parsed()) {
    status.root = inv.sysroot;
    inv.command = status;
  } else if (exec_app->parsed()) {
    inv.command = exec;
  } else if (check_app->parsed()) {
    inv.command = check_config;
  } else if (import_app->parsed()) {
    inv.command = import;
  } else if (list_app->parsed()) {
    inv.command = list;
  } else if (default_ck_app->parsed()) {
    inv.command = default_ck;
  } else if (reset_app->parsed()) {
    inv.command = reset;
  } else if (rebuild_app->parsed()) {
    rebuild.sysroot = inv.sysroot;
    inv.command = rebuild;
  } else if (estimate_app->parsed()) {
    inv.command = estimate;
  } else if (showmem_app->parsed()) {
    showmem.root = inv.sysroot;
    inv.command = showmem;
  } else {
    inv.command = service; // one of start/stop/restart/reload/test (require_subcommand(1))
  }
  return inv;
}

int run(const Invocation& inv, loader::KexecSys& sys) {
  return std::visit(
      [&](const auto& args) -> int {
        using T = std::decay_t<decltype(args)>;
        std::optional<admin::AdminLock> lock;
        if constexpr (kChangesSystem<T>) {
          auto held = hold_lock(lock_tree(args), inv.lock_timeout_s);
          if (!held)
            return report_error(held.error());
          lock = std::move(*held);
        }
        if constexpr (std::is_same_v<T, LoadArgs>)
          return run_load(args, sys);
        else if constexpr (std::is_same_v<T, UnloadArgs>)
          return run_unload(args, sys);
        else if constexpr (std::is_same_v<T, StatusArgs>)
          return run_status(args, sys);
        else if constexpr (std::is_same_v<T, ExecArgs>)
          return run_exec(args, sys);
        else if constexpr (std::is_same_v<T, CheckConfigArgs>)
          return run_check_config(args);
        else if constexpr (std::is_same_v<T, ImportArgs>)
          return run_import(args);
        else if constexpr (std::is_same_v<T, ListArgs>)
          return run_list(args);
        else if constexpr (std::is_same_v<T, DefaultCrashkernelArgs>)
          return run_default_crashkernel(args);
        else if constexpr (std::is_same_v<T, ServiceArgs>)
          return run_service(args, sys);
        else if constexpr (std::is_same_v<T, EstimateArgs>)
          return run_estimate(args, sys);
        else if constexpr (std::is_same_v<T, ResetCrashkernelArgs>)
          return run_reset_crashkernel(args);
        else if constexpr (std::is_same_v<T, RebuildArgs>)
          return run_rebuild(args);
        else
          return run_showmem(args, sys);
      },
      inv.command);
}

} // namespace crashkit::cli
