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

}  // namespace crashkit::admin
