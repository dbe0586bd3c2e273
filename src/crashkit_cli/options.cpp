#include "options.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "crashkit/admin/admin_lock.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {
namespace {

// One row per subcommand: how its options are added, what is filled in from the global options
// after parsing, how it runs, and whether it changes the system (kexec state, the images, boot
// configuration, state and configuration files: it then runs holding the admin lock). The rest
// only read and take no lock.
template <class T> struct Subcommand {
  void (*add)(CLI::App&, T&);
  int (*run)(const T&, loader::KexecSys&);
  bool changes_system = false;
  Status (*prepare)(T&, const Invocation&) = nullptr;
};

const auto kSubcommands = std::make_tuple(
    Subcommand<LoadArgs>{[](CLI::App& app, LoadArgs& a) { add_load_command(app, a); }, run_load,
                         true, [](LoadArgs& a, const Invocation&) { return validate_load(a); }},
    Subcommand<UnloadArgs>{[](CLI::App& app, UnloadArgs& a) { add_unload_command(app, a); },
                           run_unload, true},
    Subcommand<StatusArgs>{[](CLI::App& app, StatusArgs& a) { add_status_command(app, a); },
                           run_status, false,
                           [](StatusArgs& a, const Invocation& inv) -> Status {
                             a.root = inv.sysroot;
                             return {};
                           }},
    Subcommand<ShowmemArgs>{[](CLI::App& app, ShowmemArgs& a) { add_showmem_command(app, a); },
                            run_showmem, false,
                            [](ShowmemArgs& a, const Invocation& inv) -> Status {
                              a.root = inv.sysroot;
                              return {};
                            }},
    Subcommand<ExecArgs>{[](CLI::App& app, ExecArgs& a) { add_exec_command(app, a); }, run_exec,
                         true},
    Subcommand<CheckConfigArgs>{
        [](CLI::App& app, CheckConfigArgs& a) { add_check_config_command(app, a); },
        [](const CheckConfigArgs& a, loader::KexecSys&) { return run_check_config(a); }, false,
        [](CheckConfigArgs& a, const Invocation& inv) -> Status {
          a.sysroot = inv.sysroot;
          return {};
        }},
    Subcommand<ImportArgs>{[](CLI::App& app, ImportArgs& a) { add_import_command(app, a); },
                           [](const ImportArgs& a, loader::KexecSys&) { return run_import(a); },
                           true},
    Subcommand<ListArgs>{[](CLI::App& app, ListArgs& a) { add_list_command(app, a); },
                         [](const ListArgs& a, loader::KexecSys&) { return run_list(a); }},
    Subcommand<DefaultCrashkernelArgs>{
        [](CLI::App& app, DefaultCrashkernelArgs& a) { add_default_crashkernel_command(app, a); },
        [](const DefaultCrashkernelArgs& a, loader::KexecSys&) {
          return run_default_crashkernel(a);
        }},
    Subcommand<ServiceArgs>{add_service_commands, run_service, true},
    Subcommand<ResetCrashkernelArgs>{
        [](CLI::App& app, ResetCrashkernelArgs& a) { add_reset_crashkernel_command(app, a); },
        [](const ResetCrashkernelArgs& a, loader::KexecSys&) { return run_reset_crashkernel(a); },
        true},
    Subcommand<RebuildArgs>{[](CLI::App& app, RebuildArgs& a) { add_rebuild_command(app, a); },
                            [](const RebuildArgs& a, loader::KexecSys&) { return run_rebuild(a); },
                            true,
                            [](RebuildArgs& a, const Invocation& inv) -> Status {
                              a.sysroot = inv.sysroot;
                              return {};
                            }},
    Subcommand<EstimateArgs>{[](CLI::App& app, EstimateArgs& a) { add_estimate_command(app, a); },
                             run_estimate});

template <class T> const Subcommand<T>& row() {
  return std::get<Subcommand<T>>(kSubcommands);
}

// The table and Command list the same subcommands in the same order.
template <class... T> constexpr bool same_list(const std::tuple<Subcommand<T>...>*) {
  return std::is_same_v<Command, std::variant<T...>>;
}
static_assert(same_list(static_cast<decltype(kSubcommands)*>(nullptr)));

template <class V> struct TupleOf;
template <class... T> struct TupleOf<std::variant<T...>> { using type = std::tuple<T...>; };

// The help CLI11 asks for: the program's, or the innermost parsed subcommand's (CLI11 throws a
// subcommand's --help from inside it and names it by exit code 0 only).
std::string help_of(const CLI::App& app) {
  const CLI::App* sub = &app;
  for (const auto* s : app.get_subcommands({}))
    if (s->parsed())
      sub = s;
  return sub->help();
}

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
  CLI::App app{"crashkit: arm a capture kernel for kernel crashes (kdump) and load kernels for "
               "fast reboots"};
  app.set_version_flag("--version", "crashkit 0.1");
  app.require_subcommand(1);
  app.add_flag("-v,--verbose", inv.verbose, "debug messages on stderr");
  app.add_option("--sysroot", inv.sysroot,
                 "read /proc, /sys and the raw target's /dev node below DIR (testing)")
      ->group("");
  app.add_option("--lock-timeout", inv.lock_timeout_s,
                 "seconds to wait for another crashkit command to finish (default 60)")
      ->check(CLI::Range(0, 86400));
  // Each row's request, and the subcommands its add() made (service adds five).
  TupleOf<Command>::type requests;
  std::array<std::pair<std::size_t, std::size_t>, std::variant_size_v<Command>> apps;
  std::size_t index = 0;
  std::apply(
      [&](auto&... args) {
        ((apps[index].first = app.get_subcommands({}).size(),
          row<std::decay_t<decltype(args)>>().add(app, args),
          apps[index++].second = app.get_subcommands({}).size()),
         ...);
      },
      requests);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    inv.help = app.help();
    return inv;
  } catch (const CLI::CallForVersion&) {
    inv.help = "crashkit 0.1";
    return inv;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      inv.help = help_of(app);
      return inv;
    }
    return Error(ErrorCategory::usage, e.what());
  }
  const auto subs = app.get_subcommands({});
  auto parsed = [&](std::size_t i) {
    for (std::size_t s = apps[i].first; s < apps[i].second; ++s)
      if (subs[s]->parsed())
        return true;
    return false;
  };
  Status chosen;
  index = 0;
  std::apply(
      [&](auto&... args) {
        (
            [&](auto& a) {
              using T = std::decay_t<decltype(a)>;
              if (parsed(index++)) {
                if (row<T>().prepare)
                  chosen = row<T>().prepare(a, inv);
                inv.command = std::move(a);
              }
            }(args),
            ...);
      },
      requests);
  CK_TRY(chosen);
  return inv;
}

int run(const Invocation& inv, loader::KexecSys& sys) {
  return std::visit(
      [&](const auto& args) -> int {
        const auto& r = row<std::decay_t<decltype(args)>>();
        std::optional<admin::AdminLock> lock;
        if (r.changes_system) {
          auto held = hold_lock(lock_tree(args), inv.lock_timeout_s);
          if (!held)
            return report_error(held.error());
          lock = std::move(*held);
        }
        return r.run(args, sys);
      },
      inv.command);
}

} // namespace crashkit::cli
