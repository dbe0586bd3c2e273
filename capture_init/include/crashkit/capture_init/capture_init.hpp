#pragma once
/// crashkit-capture as PID 1 of the capture kernel's initramfs.
///
/// The image (built by `crashkit rebuild`) holds: /init (crashkit-capture), its libraries,
/// /etc/crashkit/crashkit.conf, /etc/crashkit/modules.load (absolute .ko paths, dependencies
/// first) and optionally /etc/crashkit/hooks/{pre,post}. run_init():
///   1. mounts proc, sysfs, devtmpfs (already mounted is fine), attaches the console, reads the
///      config and loads the modules;
///   2. waits (bounded) for the dump target and mounts it at InitPaths::target_mount;
///      without a target directive the dump goes to `path` on the crashed system's root
///      filesystem, found from `root=` (`rootfstype=`, `rootflags=`) on the capture kernel's
///      own command line: the loader copies the first kernel's line with --reuse-cmdline, so
///      that is the crashed system's root;
///   3. opens PATH, refusing it when a directory on the way is a link or can be changed by
///      anyone but root; creates a new PATH/YYYY-MM-DD-HHMMSS (0700), never reusing one;
///   4. runs kdump_pre, saves dmesg.txt; then checks free space against the estimated dump
///      size + min_free: old dumps beyond keep_dumps go first when that makes the dump fit,
///      after a complete dump when it fits anyway, not at all when it does not fit (then no
///      vmcore, and the failure is reported); then the vmcore (vmcore.incomplete -> fsync ->
///      rename -> fsync dir), files 0600; a `raw` target gets the flattened stream instead;
///   5. writes report.json, runs kdump_post with the status word appended
///      (complete|incomplete|failed), then final_action; any failure runs failure_action.
/// Hooks run without a shell, only when they (and a script's #! interpreter) are root-owned
/// and not group/world-writable, and are killed after hook_timeout seconds (a failure).
/// Nothing thrown inside ends the capture: an exception is a failure of its step, reported in
/// report.json when the dump directory exists, and followed by failure_action.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture_init/dump_report.hpp"
#include "crashkit/capture_init/init_sys.hpp"
#include "crashkit/conf/config.hpp"
#include "crashkit/initramfs/image_layout.hpp"

namespace crashkit::capture_init {

/// Where run_init() looks and writes. Defaults are the initramfs layout; tests point them into
/// a temporary directory.
struct InitPaths {
  std::string config = initramfs::image_layout::kConfig;
  std::string modules = initramfs::image_layout::kModulesLoad;
  std::string hooks_dir = initramfs::image_layout::kHooksDir;
  std::string vmcore = "/proc/vmcore";
  std::string cmdline = "/proc/cmdline";
  std::string target_mount = "/mnt/target";
  std::string rootfs_mount = "/mnt/root";
  bool mount_pseudo = true; ///< mount proc/sys/dev and attach the console
};

struct InitOptions {
  double device_timeout_s = 30;
  unsigned poll_ms = 250;
  uid_t hook_owner = 0; ///< hooks must belong to this user (root; tests use their own uid)
};

/// What run_init() did, for tests and for the PID-1 entry (which must never return).
struct InitOutcome {
  DumpStatus status = DumpStatus::failed;
  std::string dump_dir; ///< empty when no directory was made
  bool failure_action_ran = false;
  conf::Action action_taken = conf::Action::reboot; ///< final_action, or failure_action
  std::string message;                              ///< why it failed; empty when complete
};

/// The whole capture. Returns only when the final action could not be carried out (or the
/// fake system's power() returned); errors are logged with spdlog and end in failure_action.
InitOutcome run_init(InitSys& sys, const InitPaths& paths, const InitOptions& opts = {});

/// The crashed system's root from a kernel command line: `root=` (/dev/..., UUID=, LABEL=,
/// PARTUUID=, as InitSys::find_device takes it), `rootfstype=` and `rootflags=` when given.
/// Errors: no_input when there is no root= (or it is a form we cannot find: /dev/nfs, 0x801).
struct RootSpec {
  std::string device;
  std::string fstype;
  std::string flags;
};
Result<RootSpec> parse_root_from_cmdline(const std::string& cmdline);

/// Estimated bytes of the dump: the largest kdump file the writer makes for the pages the
/// level keeps (capture::KdumpLayout::max_file_bytes over capture::count_dumpable, the
/// writer's own layout and counting pass). Compression, shared zero and identical pages are
/// not predicted, so this is an upper bound (a page is never stored larger than raw).
Result<std::uint64_t> estimate_dump_bytes(const std::string& vmcore, int dump_level);
/// The same for a dump already open. Errors: data when it has no translation (mem_error).
Result<std::uint64_t> estimate_dump_bytes(const capture::OpenDump& dump, int dump_level);

/// mountpoint/path (the dump PATH on its file system) as an open directory. Every directory on
/// the way, the mount point included, must be a real directory (not a symbolic link) that only
/// root can change: owned by root (or the caller's euid) and not writable by group or others;
/// elsewhere another user could plant or replace dump directories. With create, missing
/// directories are made (0755). Errors: data naming the refused directory and why; no_input
/// naming the first missing directory (without create); from_errno of open or mkdir.
Result<UniqueFd> open_dump_path(const std::string& mountpoint, const std::string& path,
                                bool create);

/// Refuses a hook file that is not a regular executable file owned by `owner` or that is
/// group- or world-writable. Errors: usage, naming the reason.
Status check_hook_file(const std::string& path, uid_t owner);

} // namespace crashkit::capture_init
