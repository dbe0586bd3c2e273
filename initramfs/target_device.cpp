#include "crashkit/initramfs/target_device.hpp"

#include <blkid/blkid.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

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

Status chain(const fs::path& block_dir, const SystemView& sys, std::vector<ChainModule>& out,
             int depth) {
  if (depth > 16)
    return Error(ErrorCategory::data, "stacked block devices nest too deeply")
        .with_path(block_dir.string());
  fs::path dir = block_dir;
  // A partition has no device link of its own; its disk is the directory above.
  if (!path_exists(dir / "device") && path_exists(dir / "partition"))
    dir = dir.parent_path();
  const std::string name = dir.filename().string();

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
    CK_TRY(chain(sd, sys, out, depth + 1));
  }
  if (name.rfind("dm-", 0) == 0) {
    add_unique(out, "dm_mod");
    const std::string uuid = read_first_line(dir / "dm/uuid");
    if (uuid.rfind("CRYPT-", 0) == 0)
      add_unique(out, "dm_crypt");
  }
  if (name.rfind("md", 0) == 0) {
    add_unique(out, "md_mod");
    const std::string level = read_first_line(dir / "md/level");
    if (!level.empty())
      add_unique(out, level == "raid4" || level == "raid5" || level == "raid6" ? "raid456" : level);
  }

  const std::string dev = canonical_or_empty(dir / "device");
  if (dev.empty())
    return {};
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
  for (auto it = bottom_up.rbegin(); it != bottom_up.rend(); ++it)
    add_unique(out, it->name, it->from_driver_name);
  return {};
}

} // namespace

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
    if (target.kind == conf::Target::Kind::filesystem)
      td.fstype = target.fstype;
    return std::optional<TargetDevice>(td);
  }

  // root_fs: the device of the filesystem that holds path.
  fs::path p = root + config.path.value;
  struct stat st {};
  while (::stat(p.c_str(), &st) != 0) {
    if (p == p.root_path() || p.empty())
      return Error::from_errno(errno, "cannot stat").with_path(root + config.path.value);
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
    spdlog::warn("{} ({}) is on no block device ({}); the image gets no target modules",
                 config.path.value, majmin, mount ? mount->fstype : "not in the mount table");
    return std::optional<TargetDevice>();
  }
  td.sysfs_dir = dir;
  td.name = fs::path(dir).filename().string();
  td.described = "the filesystem of " + config.path.value;
  if (mount)
    td.fstype = mount->fstype;
  else
    spdlog::warn("no mount table entry for {} ({}); no filesystem module added", config.path.value,
                 majmin);
  return std::optional<TargetDevice>(td);
}

Result<std::vector<ChainModule>> device_chain_modules(const std::string& sysfs_dir,
                                                      const SystemView& sys) {
  std::vector<ChainModule> out;
  CK_TRY(chain(sysfs_dir, sys, out, 0));
  return out;
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

} // namespace crashkit::initramfs
