#pragma once
/// The dump target's block device and what lies under it: the device is found in sysfs and its
/// chain walked downward (one walk) into layers (partition, disk, LVM LV, dm-crypt, other dm, md
/// array, loop), each level's driver contributing its module (virtio_blk, virtio_pci, nvme,
/// sd_mod, ahci, ...); stacked devices (dm, md) add their slaves' chains. The filesystem type
/// adds its module. check_capture_reach() refuses a chain the capture image cannot bring up,
/// and a raw target that holds a filesystem, volume signature or partition table.
/// sysfs and procfs are parameters so tests use fake trees.

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
  /// Where the device nodes a raw target names (/dev/...) are read; tests: image files.
  std::string dev = "/dev";
  /// UUID=/LABEL= → device node path. Default (empty): libblkid's blkid_evaluate_tag.
  std::function<Result<std::string>(const conf::DeviceRef&)> evaluate_tag;
};

/// A block device of the running system.
struct TargetDevice {
  std::string name;      ///< vdb1
  std::string sysfs_dir; ///< canonical sysfs directory of the block device
  std::string fstype;    ///< from the config or the mount table; empty for raw
  std::string described; ///< how the config named it, for messages
  std::string node;      ///< filesystem/raw: its device node (a tag evaluated); empty for root_fs
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

/// One block device of a target's chain, with the devices it is built on.
struct DeviceLayer {
  enum class Kind {
    partition, ///< has a `partition` attribute; below: its disk
    disk,      ///< a block device with a `device` link (real hardware): driver
    lvm_lv,    ///< dm uuid "LVM-<VG uuid><LV uuid>" (set by lvm2)
    dm_crypt,  ///< dm uuid "CRYPT-<type>-..." (set by cryptsetup): subtype LUKS1, LUKS2, PLAIN...
    dm_other,  ///< any other dm: subtype says what (LVM thin pool, multipath) or "device-mapper"
    md,        ///< md array: subtype its md/level, array_uuid its md/uuid
    loop,      ///< loop device: backing_file
    other,     ///< anything else (zram, nbd, ...): named only
  };
  Kind kind = Kind::other;
  std::string name;         ///< kernel name: vdb1, dm-1, md0, loop0
  std::string dm_name;      ///< dm/name (vg0-dump), the /dev/mapper name
  std::string subtype;      ///< see Kind
  std::string driver;       ///< disk: its nearest driver's module (or driver) name
  std::string array_uuid;   ///< md: md/uuid when present
  std::string backing_file; ///< loop: loop/backing_file
  std::vector<DeviceLayer> below;

  /// This layer in messages: "/dev/mapper/vg0-dump (LVM LV dm-1)", "vdb1", "/dev/md0 (md raid1
  /// array ...)".
  std::string describe() const;
  /// The chain top to bottom: "/dev/mapper/vg0-dump (LVM LV dm-1) on /dev/mapper/crypt (LUKS2
  /// dm-crypt dm-0) on vdb1"; several slaves in brackets, a partition's plain disk left out.
  std::string str() const;
  /// Whether this layer or any below it is of kind k.
  bool contains(Kind k) const;
};

/// A block device's chain: its layers and the modules they need.
struct DeviceChain {
  DeviceLayer top;
  std::vector<ChainModule> modules; ///< buses first (virtio_pci before virtio_blk)
};

/// Walks a block device's chain. sysfs_dir is a canonical /sys/devices/.../block/NAME[/PART]
/// directory. Errors: data when stacked devices nest more than 16 deep.
Result<DeviceChain> walk_device_chain(const std::string& sysfs_dir, const SystemView& sys);

/// walk_device_chain()'s modules.
Result<std::vector<ChainModule>> device_chain_modules(const std::string& sysfs_dir,
                                                      const SystemView& sys);

/// Whether the capture image can bring up a chain: only partitions and disks. Errors
/// (unsupported): "CHAIN: why; alternatives" for dm-crypt/LUKS anywhere (checked first: no
/// assembly could help), then an LVM LV, an md array, other device-mapper devices, loop devices
/// and other virtual devices.
Status check_chain_reachable(const DeviceLayer& top);

/// The capture's view of the config's devices before anything is armed: the dump target's
/// chain must be reachable (error: "dump target X: " + check_chain_reachable's, unsupported); a
/// raw target must not carry a signature other than crashkit's own (error: unsupported,
/// capture_init::foreign_signature_refusal; its node read below sys.dev);
/// with failure_action dump_to_rootfs and a target other than root_fs, an unreachable root
/// filesystem is a warning (returned: the main target still works). Errors as well: those of
/// find_target_device.
Result<std::vector<std::string>>
check_capture_reach(const conf::Config& config, const std::string& root, const SystemView& sys);

/// Everything the config needs loaded in the capture kernel: device chain (warn when not
/// found), filesystem (required), extra_modules (required), in that order.
Result<std::vector<ModuleRequest>>
target_module_requests(const conf::Config& config, const std::string& root, const SystemView& sys);

} // namespace crashkit::initramfs
