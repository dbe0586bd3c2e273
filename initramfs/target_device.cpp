#include "crashkit/initramfs/target_device.hpp"

#include <blkid/blkid.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "crashkit/capture_init/device_signature.hpp"

namespace fs = std::filesystem;

namespace crashkit::initramfs {
namespace {

std::string canonical_or_empty(const fs::path& p) {
  std::error_code ec;
  auto c = fs::canonical(p, ec);
  return ec ? std::string() : c.string();
}

bool path_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::string tag_name(const conf::DeviceRef& ref) {
  return ref.kind == conf::DeviceRef::Kind::uuid ? "UUID" : "LABEL";
}

/// A device node path (/dev/vdb1, /dev/disk/by-uuid/..., /dev/mapper/x) → sysfs directory.
Result<std::string> sysfs_dir_of_node(const std::string& node, const SystemView& sys) {
  const std::string canon = canonical_or_empty(node);
  const std::string name = fs::path(canon.empty() ? node : canon).filename().string();
  if (!name.empty()) {
    std::string dir = canonical_or_empty(fs::path(sys.sysfs) / "class/block" / name);
    if (!dir.empty())
      return dir;
  }
  struct stat st {};
  if (::stat(node.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) {
    std::string dir = canonical_or_empty(
        fs::path(sys.sysfs) / "dev/block" /
        (std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev))));
    if (!dir.empty())
      return dir;
  }
  return Error(ErrorCategory::no_input, "not a block device found in " + sys.sysfs + "/class/block")
      .with_path(node);
}

struct MountEntry {
  std::string fstype;
  std::string source;
};

/// The last mountinfo line for MAJ:MIN (the one mounted on top).
std::optional<MountEntry> mount_of(const std::string& majmin, const SystemView& sys) {
  std::ifstream in(sys.proc + "/self/mountinfo");
  std::optional<MountEntry> found;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string id, parent, dev, word;
    s >> id >> parent >> dev;
    if (dev != majmin)
      continue;
    while (s >> word && word != "-") {
    }
    MountEntry e;
    s >> e.fstype >> e.source;
    if (!e.fstype.empty())
      found = e;
  }
  return found;
}

std::string read_first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}

void add_unique(std::vector<ChainModule>& v, const std::string& s, bool guessed = false) {
  for (const auto& m : v)
    if (m.name == s)
      return;
  v.push_back({s, guessed});
}

// dm uuids are chosen by the tool that made the device: lvm2 sets "LVM-" + VG uuid + LV uuid for
// an LV and appends "-<layer>" for its hidden sub-devices (thin pool "-tpool", its "-tdata" and
// "-tmeta", snapshot "-real"/"-cow", cache "-cdata"...); cryptsetup sets
// "CRYPT-<type>-<uuid>-<name>" (type LUKS1, LUKS2, PLAIN, ...); multipathd "mpath-<wwid>".
void classify_dm(DeviceLayer& layer, const std::string& uuid) {
  // lvm2's uuids are 32 characters without dashes: a dash after "LVM-" starts the layer suffix.
  const std::size_t lvm_suffix = uuid.rfind("LVM-", 0) == 0 ? uuid.find('-', 4) : 0;
  if (uuid.rfind("CRYPT-", 0) == 0) {
    layer.kind = DeviceLayer::Kind::dm_crypt;
    const std::size_t dash = uuid.find('-', 6);
    layer.subtype = uuid.substr(6, dash == std::string::npos ? std::string::npos : dash - 6);
  } else if (uuid.rfind("LVM-", 0) == 0 && lvm_suffix == std::string::npos) {
    layer.kind = DeviceLayer::Kind::lvm_lv;
  } else if (uuid.rfind("LVM-", 0) == 0) {
    layer.kind = DeviceLayer::Kind::dm_other;
    const std::string suffix = uuid.substr(lvm_suffix + 1);
    layer.subtype = suffix == "tpool" ? "LVM thin pool" : "LVM " + suffix + " layer";
  } else if (uuid.rfind("mpath-", 0) == 0) {
    layer.kind = DeviceLayer::Kind::dm_other;
    layer.subtype = "multipath";
  } else {
    layer.kind = DeviceLayer::Kind::dm_other;
    layer.subtype = "device-mapper";
  }
}

Result<DeviceLayer> walk(const fs::path& block_dir, const SystemView& sys,
                         std::vector<ChainModule>& out, int depth) {
  if (depth > 16)
    return Error(ErrorCategory::data, "stacked block devices nest too deeply")
        .with_path(block_dir.string());
  DeviceLayer layer;
  layer.name = block_dir.filename().string();
  // A partition has no device link of its own; its disk is the directory above.
  if (!path_exists(block_dir / "device") && path_exists(block_dir / "partition")) {
    layer.kind = DeviceLayer::Kind::partition;
    layer.below.push_back(CK_TRY(walk(block_dir.parent_path(), sys, out, depth + 1)));
    return layer;
  }
  const fs::path& dir = block_dir;
  const std::string& name = layer.name;

  // Stacked devices: the modules under every slave first.
  std::error_code ec;
  std::vector<std::string> slaves;
  for (const auto& e : fs::directory_iterator(dir / "slaves", ec))
    slaves.push_back(e.path().filename().string());
  std::sort(slaves.begin(), slaves.end());
  for (const auto& s : slaves) {
    std::string sd = canonical_or_empty(fs::path(sys.sysfs) / "class/block" / s);
    if (sd.empty())
      continue;
    layer.below.push_back(CK_TRY(walk(sd, sys, out, depth + 1)));
  }
  if (name.rfind("dm-", 0) == 0) {
    add_unique(out, "dm_mod");
    layer.dm_name = read_first_line(dir / "dm/name");
    classify_dm(layer, read_first_line(dir / "dm/uuid"));
    if (layer.kind == DeviceLayer::Kind::dm_crypt)
      add_unique(out, "dm_crypt");
  } else if (name.rfind("md", 0) == 0) {
    layer.kind = DeviceLayer::Kind::md;
    add_unique(out, "md_mod");
    const std::string level = read_first_line(dir / "md/level");
    layer.subtype = level;
    layer.array_uuid = read_first_line(dir / "md/uuid");
    if (!level.empty())
      add_unique(out, level == "raid4" || level == "raid5" || level == "raid6" ? "raid456" : level);
  } else if (name.rfind("loop", 0) == 0) {
    layer.kind = DeviceLayer::Kind::loop;
    layer.backing_file = read_first_line(dir / "loop/backing_file");
  }

  const std::string dev = canonical_or_empty(dir / "device");
  if (dev.empty())
    return layer;
  if (layer.kind == DeviceLayer::Kind::other)
    layer.kind = DeviceLayer::Kind::disk;
  const std::string devices_root = canonical_or_empty(fs::path(sys.sysfs) / "devices");
  std::vector<ChainModule> bottom_up;
  for (fs::path cur = dev;
       !devices_root.empty() && cur.string().size() > devices_root.size() &&
       cur.string().compare(0, devices_root.size() + 1, devices_root + "/") == 0;
       cur = cur.parent_path()) {
    const std::string driver = canonical_or_empty(cur / "driver");
    if (driver.empty())
      continue;
    const std::string module = canonical_or_empty(cur / "driver/module");
    if (!module.empty())
      bottom_up.push_back({fs::path(module).filename().string(), false});
    else
      bottom_up.push_back({fs::path(driver).filename().string(), true});
  }
  if (!bottom_up.empty())
    layer.driver = bottom_up.front().name;
  for (auto it = bottom_up.rbegin(); it != bottom_up.rend(); ++it)
    add_unique(out, it->name, it->from_driver_name);
  return layer;
}

/// The block device of the filesystem holding ROOT+path (its nearest existing ancestor when
/// path does not exist yet); nullopt when that is no block device. warn: say what the image
/// lacks then (the builder's call; a check that follows it stays quiet).
Result<std::optional<TargetDevice>> device_of_path(const std::string& path, const std::string& root,
                                                   const SystemView& sys, bool warn) {
  fs::path p = root + path;
  struct stat st {};
  while (::stat(p.c_str(), &st) != 0) {
    if (p == p.root_path() || p.empty())
      return Error::from_errno(errno, "cannot stat").with_path(root + path);
    p = p.parent_path();
  }
  const std::string majmin =
      std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  auto mount = mount_of(majmin, sys);
  std::string dir = canonical_or_empty(fs::path(sys.sysfs) / "dev/block" / majmin);
  // btrfs (and other multi-device filesystems) report an anonymous st_dev; the mount source
  // names the device.
  if (dir.empty() && mount && mount->source.rfind("/dev/", 0) == 0) {
    auto d = sysfs_dir_of_node(mount->source, sys);
    if (d)
      dir = *d;
  }
  if (dir.empty()) {
    if (warn)
      spdlog::warn("{} ({}) is on no block device ({}); the image gets no target modules", path,
                   majmin, mount ? mount->fstype : "not in the mount table");
    return std::optional<TargetDevice>();
  }
  TargetDevice td;
  td.sysfs_dir = dir;
  td.name = fs::path(dir).filename().string();
  td.described = "the filesystem of " + path;
  if (mount)
    td.fstype = mount->fstype;
  else if (warn)
    spdlog::warn("no mount table entry for {} ({}); no filesystem module added", path, majmin);
  return std::optional<TargetDevice>(td);
}

Result<std::optional<TargetDevice>> target_device_of(const conf::Config& config,
                                                     const std::string& root, const SystemView& sys,
                                                     bool warn) {
  const conf::Target& target = config.target.value;
  TargetDevice td;
  if (target.kind != conf::Target::Kind::root_fs) {
    const conf::DeviceRef& ref = target.device;
    std::string node = ref.value;
    if (ref.kind != conf::DeviceRef::Kind::path) {
      auto ev = CK_TRY_CONTEXT(sys.evaluate_tag ? sys.evaluate_tag(ref) : blkid_evaluate(ref),
                               "dump target " + ref.str());
      node = ev;
    }
    auto dir = CK_TRY_CONTEXT(sysfs_dir_of_node(node, sys), "dump target " + ref.str());
    td.sysfs_dir = dir;
    td.name = fs::path(dir).filename().string();
    td.described = ref.str();
    td.node = node;
    if (target.kind == conf::Target::Kind::filesystem)
      td.fstype = target.fstype;
    return std::optional<TargetDevice>(td);
  }

  // root_fs: the device of the filesystem that holds path.
  return device_of_path(config.path.value, root, sys, warn);
}

/// What the capture image cannot bring up, first match wins. No assembly step can help an
/// encrypted layer (the capture kernel runs unattended, with no passphrase and no TPM policy to
/// unseal a key), so it is named first wherever it sits in the chain.
constexpr std::pair<DeviceLayer::Kind, const char*> kUnreachable[] = {
    {DeviceLayer::Kind::dm_crypt,
     "the capture kernel cannot unlock an encrypted device (no passphrase or TPM there)"},
    {DeviceLayer::Kind::lvm_lv, "the capture image does not assemble LVM volumes"},
    {DeviceLayer::Kind::md, "the capture image does not assemble md arrays"},
    {DeviceLayer::Kind::dm_other, "the capture image does not set up device-mapper devices"},
    {DeviceLayer::Kind::loop, "the capture image does not set up loop devices"},
    {DeviceLayer::Kind::other, "the capture image can only reach partitions and whole disks"},
};

/// Why the capture image cannot bring up a chain; empty when it can (partitions and disks).
std::string unreachable_why(const DeviceLayer& top) {
  for (const auto& [kind, why] : kUnreachable)
    if (top.contains(kind))
      return why;
  return {};
}

constexpr const char* kAlternatives =
    "use a filesystem on a plain partition or disk, or a raw partition";

/// Where the node of a raw target is read: below sys.dev for a /dev/... name.
std::string node_in(const std::string& node, const SystemView& sys) {
  constexpr std::string_view kDev = "/dev/";
  if (sys.dev == "/dev" || !node.starts_with(kDev))
    return node;
  return (fs::path(sys.dev) / node.substr(kDev.size())).string();
}

} // namespace

std::string DeviceLayer::describe() const {
  // A dm device is known by its /dev/mapper name; the kernel name goes beside what it is.
  const auto dm = [this](const std::string& what) {
    return dm_name.empty() ? name + " (" + what + ")"
                           : "/dev/mapper/" + dm_name + " (" + what + " " + name + ")";
  };
  switch (kind) {
  case Kind::partition:
  case Kind::other:
    return name;
  case Kind::disk:
    return driver.empty() ? name : name + " (" + driver + ")";
  case Kind::lvm_lv:
    return dm("LVM LV");
  case Kind::dm_crypt:
    return dm(subtype.rfind("LUKS", 0) == 0 ? subtype + ", dm-crypt" : "dm-crypt " + subtype);
  case Kind::dm_other:
    return dm(subtype);
  case Kind::md:
    return "/dev/" + name + " (md " + (subtype.empty() ? "" : subtype + " ") + "array" +
           (array_uuid.empty() ? "" : " " + array_uuid) + ")";
  case Kind::loop:
    return "/dev/" + name + (backing_file.empty() ? "" : " (loop on " + backing_file + ")");
  }
  return name;
}

std::string DeviceLayer::str() const {
  std::string out = describe();
  // A partition's disk is implied by its name (vdb1 on vdb): only a stacked one is said.
  if (kind == Kind::partition && below.size() == 1 && below[0].kind == Kind::disk)
    return out;
  if (below.size() == 1)
    return out + " on " + below[0].str();
  if (below.size() > 1) {
    out += " on [";
    for (std::size_t i = 0; i < below.size(); ++i)
      out += (i ? ", " : "") + below[i].str();
    out += "]";
  }
  return out;
}

bool DeviceLayer::contains(Kind k) const {
  if (kind == k)
    return true;
  return std::any_of(below.begin(), below.end(),
                     [k](const DeviceLayer& l) { return l.contains(k); });
}

Status check_chain_reachable(const DeviceLayer& top) {
  const std::string why = unreachable_why(top);
  if (why.empty())
    return {};
  return Error(ErrorCategory::unsupported, top.str() + ": " + why + "; " + kAlternatives);
}

Result<std::string> blkid_evaluate(const conf::DeviceRef& ref) {
  char* dev = blkid_evaluate_tag(tag_name(ref).c_str(), ref.value.c_str(), nullptr);
  if (!dev)
    return Error(ErrorCategory::no_input, "no device with " + ref.str());
  std::string out(dev);
  std::free(dev);
  return out;
}

Result<std::optional<TargetDevice>>
find_target_device(const conf::Config& config, const std::string& root, const SystemView& sys) {
  return target_device_of(config, root, sys, /*warn=*/true);
}

Result<DeviceChain> walk_device_chain(const std::string& sysfs_dir, const SystemView& sys) {
  DeviceChain chain;
  chain.top = CK_TRY(walk(sysfs_dir, sys, chain.modules, 0));
  return chain;
}

Result<std::vector<ChainModule>> device_chain_modules(const std::string& sysfs_dir,
                                                      const SystemView& sys) {
  auto chain = CK_TRY(walk_device_chain(sysfs_dir, sys));
  return std::move(chain.modules);
}

Result<std::vector<ModuleRequest>>
target_module_requests(const conf::Config& config, const std::string& root, const SystemView& sys) {
  std::vector<ModuleRequest> reqs;
  auto dev = CK_TRY(find_target_device(config, root, sys));
  if (dev) {
    const TargetDevice& td = *dev;
    auto chain_mods =
        CK_TRY_CONTEXT(device_chain_modules(td.sysfs_dir, sys), "dump target " + td.described);
    for (const auto& m : chain_mods)
      reqs.push_back({m.name,
                      "dump target " + td.described + " (" + td.name + ")" +
                          (m.from_driver_name ? ", driver built into the running kernel" : ""),
                      false,
                      {},
                      !m.from_driver_name});
    if (!td.fstype.empty())
      reqs.push_back(
          {td.fstype, td.fstype + " filesystem of the dump target", true, "fs-" + td.fstype});
  }
  for (const auto& m : config.extra_modules.value)
    reqs.push_back({m, "extra_modules at " + config.extra_modules.origin.str(), true, {}});
  return reqs;
}

Result<std::vector<std::string>>
check_capture_reach(const conf::Config& config, const std::string& root, const SystemView& sys) {
  std::vector<std::string> warnings;
  auto dev = CK_TRY(target_device_of(config, root, sys, /*warn=*/false));
  if (dev) {
    auto chain =
        CK_TRY_CONTEXT(walk_device_chain(dev->sysfs_dir, sys), "dump target " + dev->described);
    CK_TRY_CONTEXT(check_chain_reachable(chain.top), "dump target " + dev->described);
    // The capture init probes again before writing; refusing here keeps start from arming a
    // capture that will not save.
    if (config.target.value.kind == conf::Target::Kind::raw) {
      auto foreign = CK_TRY_CONTEXT(capture_init::probe_foreign_signature(node_in(dev->node, sys)),
                                    "dump target " + dev->described);
      if (foreign)
        return capture_init::foreign_signature_refusal(dev->node, *foreign);
    }
  }
  // The capture init falls back to the root filesystem only for a target elsewhere.
  if (config.failure_action.value != conf::Action::dump_to_rootfs ||
      config.target.value.kind == conf::Target::Kind::root_fs)
    return warnings;
  auto rootdev = CK_TRY(device_of_path("/", root, sys, /*warn=*/false));
  if (!rootdev)
    return warnings;
  auto chain = CK_TRY_CONTEXT(walk_device_chain(rootdev->sysfs_dir, sys), "the root filesystem");
  if (const std::string why = unreachable_why(chain.top); !why.empty())
    warnings.push_back("failure_action dump_to_rootfs (" + config.failure_action.origin.str() +
                       ") cannot save a dump: the root filesystem is on " + chain.top.str() + ": " +
                       why);
  return warnings;
}

} // namespace crashkit::initramfs
