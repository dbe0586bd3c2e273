#pragma once
/// The typed content of crashkit.conf (+ drop-ins): every field remembers the file and line it
/// came from, so later layers can say where a value was set.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/conf/core_collector.hpp"
#include "crashkit/conf/crashkernel.hpp"

namespace crashkit::conf {

/// Where a value came from; line 0 means the built-in default.
struct Origin {
  std::string file;
  unsigned line = 0;
  bool is_default() const { return line == 0; }
  /// "FILE:LINE", "FILE" when line is 0 and file is set, "default" otherwise.
  std::string str() const;
  bool operator==(const Origin&) const = default;
};

/// A value with its origin.
template <typename T> struct Sourced {
  T value{};
  Origin origin;
};

/// failure_action / final_action.
enum class Action { reboot, halt, poweroff, shell, dump_to_rootfs };
std::string_view action_name(Action a);

/// How the dump device is named: /dev/..., UUID=..., LABEL=...
struct DeviceRef {
  enum class Kind { path, uuid, label } kind = Kind::path;
  std::string value; ///< without the UUID=/LABEL= prefix
  std::string str() const;
  bool operator==(const DeviceRef&) const = default;
};

/// Where dumps go. root_fs: no target directive, `path` is a directory on the running root
/// filesystem (as in kdump.conf without a target line).
struct Target {
  enum class Kind { root_fs, filesystem, raw } kind = Kind::root_fs;
  std::string fstype; ///< filesystem: ext4|xfs|btrfs|ext3|ext2
  DeviceRef device;   ///< filesystem, raw
  bool operator==(const Target&) const = default;
};

/// capture_kernel PATH|running
struct CaptureKernel {
  bool running = true; ///< use the running kernel's image
  std::string path;    ///< when !running
};

/// crashkernel auto|VALUE
struct CrashkernelChoice {
  bool automatic = true; ///< size it from crashkit's defaults/estimate
  CrashkernelSetting setting;
};

/// Everything crashkit.conf can say. Defaults are those of a missing file.
struct Config {
  Sourced<std::string> path{"/var/crash", {}};
  Sourced<Target> target;
  Sourced<CoreCollector> core_collector{default_core_collector(), {}};
  Sourced<std::vector<std::string>> extra_modules;
  Sourced<Action> failure_action{Action::reboot, {}};
  Sourced<Action> final_action{Action::reboot, {}};
  Sourced<std::vector<std::string>> kdump_pre;  ///< argv; empty = none
  Sourced<std::vector<std::string>> kdump_post; ///< argv; the dump status is appended
  /// Seconds kdump_pre or kdump_post may run before it is killed; 0 = no limit.
  Sourced<std::uint64_t> hook_timeout{300, {}};
  Sourced<bool> force_rebuild{false, {}};
  Sourced<bool> force_no_rebuild{false, {}};
  Sourced<bool> auto_reset_crashkernel{true, {}};
  Sourced<std::uint64_t> keep_dumps{0, {}}; ///< 0 keeps every dump
  Sourced<std::uint64_t> min_free{0, {}};   ///< bytes that must stay free after the dump
  Sourced<CaptureKernel> capture_kernel;
  Sourced<std::vector<std::string>> append; ///< capture kernel parameters to add
  Sourced<std::vector<std::string>> remove; ///< parameter names to drop from the inherited line
  Sourced<CrashkernelChoice> crashkernel;
  /// Files that were read, in order.
  std::vector<std::string> files;
};

/// The config as crashkit.conf text: one directive per line for every value that differs from
/// the default (all of them with all_values), quoted with quote_word(). Parsing the result gives
/// the same values back.
std::string render_config(const Config& c, bool all_values = false);

} // namespace crashkit::conf
