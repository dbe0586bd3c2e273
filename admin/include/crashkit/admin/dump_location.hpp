#pragma once
/// Where the running system sees the dumps the capture environment wrote: `path` on the root
/// filesystem, or `path` below wherever the target filesystem is mounted now.

#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"

namespace crashkit::admin {

/// The mount point of the filesystem on device major:minor, from /proc/self/mountinfo text
/// (the first mount of it). Errors: no_input when it is not mounted.
Result<std::string> mount_point_of(std::string_view mountinfo, unsigned major, unsigned minor);

/// The dump directory for `c` on the running system (below `root` for images and tests).
/// Errors: no_input when the target device cannot be found (UUID/LABEL resolved with libblkid)
/// or is not mounted, naming it; unsupported for raw targets (dumps live on the device until
/// `crashkit start` salvages them).
Result<std::string> dump_directory(const conf::Config& c, const std::string& root = "");

/// Whether the capture will accept PATH as the system has it now: every existing directory
/// from the target file system's root down to PATH must be a real directory that only root can
/// change (capture_init::open_dump_path's rule; missing ones are fine, the capture makes them).
/// Raw targets and targets not mounted here are not checked. Errors: data naming the directory
/// the capture would refuse and why; from_errno of open.
Status check_dump_path(const conf::Config& c, const std::string& root = "");

} // namespace crashkit::admin
