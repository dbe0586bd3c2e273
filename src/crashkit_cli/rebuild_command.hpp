#pragma once
// `crashkit rebuild`: (re)writes the capture initramfs when its manifest says it is stale.

#include <CLI/CLI.hpp>

#include <string>

#include "crashkit/initramfs/builder.hpp"

namespace crashkit::cli {

struct RebuildArgs {
  std::string root;           ///< build from the tree at DIR ("" = this system)
  std::string kernel;         ///< "" = the running kernel's release
  std::string output;         ///< "" = ROOT/var/lib/crashkit/initramfs-KVER.img
  std::string capture_binary; ///< "" = the installed crashkit-capture below root
  bool force = false;
  std::string sysroot; ///< the global --sysroot: sysfs/procfs/dev below it (tests)
};

CLI::App* add_rebuild_command(CLI::App& app, RebuildArgs& args);

/// The build request `rebuild` and `start` share: root, kernel (default: running), this
/// crashkit binary in the manifest (a new crashkit may lay the image out differently).
initramfs::BuildRequest build_request(const std::string& root, const std::string& kernel);

/// Prints "up to date: IMAGE" or "wrote IMAGE (...)"; 0. A bad config: its problems and 1
/// (like check-config); other errors: one line and their exit code.
int run_rebuild(const RebuildArgs& args);

} // namespace crashkit::cli
