#pragma once
/// The capture initramfs: what goes in (plan_image), writing it (write_image) and the decision
/// to rebuild (rebuild_if_needed). Layout of the image:
///
///   /init                                 crashkit-capture (0755; init mode when PID 1)
///   <interpreter and libraries>           at their tree paths (0755), from PT_INTERP/DT_NEEDED
///   /lib/modules/KVER/<relative path>     module files as shipped (.ko, .ko.xz, .ko.zst)
///   /etc/crashkit/crashkit.conf           render_config() of the merged config
///   /etc/crashkit/modules.load            in-image .ko paths to insmod, dependencies first
///   /etc/crashkit/hooks/pre, hooks/post   kdump_pre / kdump_post executables, when configured
///   /dev/console (c 5 1), /dev /proc /sys /run /tmp /mnt   mount points
///
/// Beside it: IMAGE.manifest.json (see manifest.hpp).

#include <cstdint>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"
#include "crashkit/initramfs/image_layout.hpp"
#include "crashkit/initramfs/image_writer.hpp"
#include "crashkit/initramfs/manifest.hpp"
#include "crashkit/initramfs/module_resolver.hpp"
#include "crashkit/initramfs/target_device.hpp"

namespace crashkit::initramfs {

struct BuildRequest {
  std::string root;                       ///< "" = the live system; else a chroot/image tree
  std::string kernel;                     ///< KVER (required)
  std::string output;                     ///< "" = default_image_path(root, kernel)
  std::string capture_binary;             ///< host path; "" = the installed one below root
  std::vector<std::string> tool_binaries; ///< host paths whose hashes go in the manifest
  SystemView system;
  int zstd_level = 19;
};

/// ROOT/var/lib/crashkit/initramfs-KVER.img
std::string default_image_path(const std::string& root, const std::string& kernel);
/// Where crashkit-capture is installed (CMAKE_INSTALL_FULL_SBINDIR at build time).
std::string installed_capture_binary();

struct ImagePlan {
  ImageContents contents;
  Manifest manifest; ///< image_sha256 still empty
  std::vector<ModuleFile> modules;
};

/// Collects every file of the image and its manifest. Errors (each naming the file): capture
/// binary or a library missing, target device not found, a required module not found, a hook
/// that is not a root-owned, non group/world-writable regular file.
Result<ImagePlan> plan_image(const BuildRequest& req, const conf::Config& config);

/// Writes the image (0600) and then its manifest, each as NAME.incomplete → fdatasync → rename
/// → fsync of the directory; creates the directory 0700 when missing, and makes an existing one
/// 0700 when private_dir (crashkit's own /var/lib/crashkit). Sets plan.manifest.image_sha256.
/// Returns the image's size.
Result<std::uint64_t> write_image(ImagePlan& plan, const std::string& output, int zstd_level,
                                  bool private_dir);

struct RebuildOutcome {
  bool rebuilt = false;
  std::string image;
  std::string reason; ///< why it was (or was not) rebuilt
  std::uint64_t image_bytes = 0;
  std::uint64_t unpacked_bytes = 0;
  std::size_t files = 0;
  std::size_t modules = 0; ///< kernel modules in the image
  /// check_capture_reach's warnings: a failure_action that cannot work.
  std::vector<std::string> warnings;
};

/// First, on every call: check_capture_reach (target_device.hpp) refuses a target the capture
/// image cannot reach (unsupported), whether or not the image is rebuilt; an image kept by
/// force_no_rebuild does not need its target found.
/// Rebuilds when asked (force, or config force_rebuild) or when stale; with config
/// force_no_rebuild an existing image is kept without even being checked (kdump-utils#119:
/// every path must honour it), a missing one is still built. force beats force_no_rebuild.
Result<RebuildOutcome> rebuild_if_needed(const BuildRequest& req, const conf::Config& config,
                                         bool force);

} // namespace crashkit::initramfs
