#pragma once
/// Which kernel modules the dump target needs: the target's block device is found in sysfs and
/// its device chain walked upward, each level's driver contributing its module (virtio_blk,
/// virtio_pci, nvme, sd_mod, ahci, ...); stacked devices (dm, md) add their slaves' chains.
/// The filesystem type adds its module. sysfs and procfs are parameters so tests use fake trees.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"
#include "crashkit/initramfs/module_resolver.hpp"

namespace crashkit::initramfs {

/// The running system as the builder sees it.
struct SystemView {
  std::string sysfs = "/sys";
  std::string proc = "/proc";
  /// UUID=/LABEL= → device node path. Default (empty): libblkid's blkid_evaluate_tag.
  std::function<Result<std::string>(const conf::DeviceRef&)> evaluate_tag;
};

/// A block device of the running system.
struct TargetDevice {
  std::string name;      ///< vdb1
  std::string sysfs_dir; ///< canonical sysfs directory of the block device
  std::string fstype;    ///< from the config or the mount table; empty for raw
  std::string described; ///< how the config named it, for messages
};

/// blkid_evaluate_tag() for UUID=/LABEL=. Errors: no_input "no device with UUID=...".
Result<std::string> blkid_evaluate(const conf::DeviceRef& ref);

/// The block device behind the config's target: the device named by a filesystem/raw target,
/// or for a root_fs target the device of the filesystem holding `path` (below root; its
/// nearest existing ancestor when it does not exist yet). nullopt (with a warning) when a
/// root_fs path lives on no block device (tmpfs, overlay, network). Errors: a named device
/// that cannot be found in sysfs.
Result<std::optional<TargetDevice>>
find_target_device(const conf::Config& config, const std::string& root, const SystemView& sys);

/// A module a device level's driver needs.
struct ChainModule {
  std::string name;
  /// No driver/module link (the driver is built into the *running* kernel): the driver's name,
  /// which is usually its module's name in other builds (virtio_blk, virtio-pci, nvme, ahci)
  /// and simply not found otherwise (sd for sd_mod).
  bool from_driver_name = false;
  bool operator==(const ChainModule&) const = default;
};

/// Modules of a block device's chain, buses first (virtio_pci before virtio_blk).
/// sysfs_dir is a canonical /sys/devices/.../block/NAME[/PART] directory.
Result<std::vector<ChainModule>> device_chain_modules(const std::string& sysfs_dir,
                                                      const SystemView& sys);

/// Everything the config needs loaded in the capture kernel: device chain (warn when not
/// found), filesystem (required), extra_modules (required), in that order.
Result<std::vector<ModuleRequest>>
target_module_requests(const conf::Config& config, const std::string& root, const SystemView& sys);

} // namespace crashkit::initramfs
