#pragma once
/// Kernel modules for a kernel version, resolved at build time with libkmod against the tree's
/// ROOT/lib/modules/KVER indexes (modules.dep.bin, modules.alias.bin, modules.builtin.bin,
/// modules.softdep), so the capture kernel can insmod them in order without any index.

#include <memory>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/initramfs/root_dir.hpp"

struct kmod_ctx;

namespace crashkit::initramfs {

/// A module asked for, and why (for messages).
struct ModuleRequest {
  std::string name;         ///< module name or alias (virtio_blk, ext4, fs-ext4, crc32c)
  std::string why;          ///< "dump target /dev/vdb1", "extra_modules", ...
  bool required = true;     ///< not found → error; otherwise a warning
  std::string fallback;     ///< looked up when name matches nothing (fs-ext3 for ext3)
  bool warn_missing = true; ///< when not required: warn (true) or only log at debug level
};

/// A module file to put in the image.
struct ModuleFile {
  std::string name;          ///< kmod's name (underscores)
  std::string relative_path; ///< below lib/modules/KVER, e.g. kernel/fs/ext4/ext4.ko.xz
};

class ModuleResolver {
public:
  /// Opens ROOT/lib/modules/KVER. Errors: no_input when the directory or modules.dep.bin is
  /// missing (kernel not installed, depmod not run).
  static Result<ModuleResolver> create(const RootDir& root, const std::string& kernel);

  /// Every module the requests need, with their dependencies and pre-softdeps, each once,
  /// dependencies before the modules that need them, in request order otherwise. Built-in
  /// modules (no file) are left out. Errors: a required request that matches nothing names the
  /// module, the reason and the directory.
  Result<std::vector<ModuleFile>> resolve(const std::vector<ModuleRequest>& requests) const;

private:
  struct CtxDeleter {
    void operator()(kmod_ctx* c) const;
  };
  ModuleResolver(std::string dir, kmod_ctx* ctx) : dir_(std::move(dir)), ctx_(ctx) {}

  std::string dir_;
  std::unique_ptr<kmod_ctx, CtxDeleter> ctx_;
};

} // namespace crashkit::initramfs
