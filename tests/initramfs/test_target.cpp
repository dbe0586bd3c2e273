#include <catch2/catch.hpp>

#include "crashkit/conf/config_parser.hpp"
#include "crashkit/initramfs/builder.hpp"
#include "crashkit/initramfs/target_device.hpp"
#include "fixtures.hpp"

using namespace crashkit;
using namespace crashkit::initramfs;
using namespace ckt;
using V = std::vector<std::string>;

namespace {

conf::Config config_of(const std::string& text) {
  auto p = conf::parse_config_text(text);
  INFO(p.error_text());
  REQUIRE(p.ok());
  return p.config;
}

std::vector<std::string> names(const std::vector<ModuleRequest>& reqs) {
  std::vector<std::string> out;
  for (const auto& r : reqs)
    out.push_back(r.name);
  return out;
}

struct FakeSystem {
  TempDir t;
  SystemView sys;
  FakeSystem() {
    add_fake_sysfs(t.dir / "sys", 254, 17);
    sys.sysfs = (t.dir / "sys").string();
    sys.proc = (t.dir / "proc").string();
    sys.evaluate_tag = [](const conf::DeviceRef& ref) -> Result<std::string> {
      if (ref.value == "0b5e1b2e-1c4e-4c49-9a9e-4b2f0a6f1d01" || ref.value == "crash")
        return std::string("/dev/vdb1");
      return Error(ErrorCategory::no_input, "no device with " + ref.str());
    };
  }
};

} // namespace

TEST_CASE("target: the virtio chain of a partition, buses first", "[target]") {
  FakeSystem f;
  auto dir = fs::canonical(f.t.dir / "sys/class/block/vdb1").string();
  auto mods = device_chain_modules(dir, f.sys);
  REQUIRE(mods);
  CHECK(*mods == std::vector<ChainModule>{{"virtio_pci", false}, {"virtio_blk", false}});
}

TEST_CASE("target: a driver built into the running kernel contributes its name", "[target]") {
  FakeSystem f;
  fs::remove(f.t.dir / "sys/bus/virtio/drivers/virtio_blk/module");
  auto mods = device_chain_modules(fs::canonical(f.t.dir / "sys/class/block/vdb1").string(), f.sys);
  REQUIRE(mods);
  CHECK(*mods == std::vector<ChainModule>{{"virtio_pci", false}, {"virtio_blk", true}});
  auto reqs = target_module_requests(config_of("ext4 /dev/vdb1\n"), "", f.sys);
  REQUIRE(reqs);
  CHECK_FALSE(reqs->at(1).warn_missing);
  CHECK(reqs->at(0).warn_missing);
}

TEST_CASE("target: UUID=, LABEL= and device paths resolve to the same device", "[target]") {
  FakeSystem f;
  for (const std::string t : {"ext4 UUID=0b5e1b2e-1c4e-4c49-9a9e-4b2f0a6f1d01\n",
                              "ext4 LABEL=crash\n", "ext4 /dev/vdb1\n"}) {
    INFO(t);
    auto reqs = target_module_requests(config_of(t + "extra_modules dm_mod\n"), "", f.sys);
    REQUIRE(reqs);
    CHECK(names(*reqs) == V{"virtio_pci", "virtio_blk", "ext4", "dm_mod"});
    CHECK(reqs->at(2).fallback == "fs-ext4");
    CHECK(reqs->at(2).required);
    CHECK_FALSE(reqs->at(0).required);
  }
  auto raw = target_module_requests(config_of("raw /dev/vdb\n"), "", f.sys);
  REQUIRE(raw);
  CHECK(names(*raw) == V{"virtio_pci", "virtio_blk"});
}

TEST_CASE("target: an unknown UUID or device is an error naming it", "[target]") {
  FakeSystem f;
  auto r = target_module_requests(config_of("xfs UUID=ffff\n"), "", f.sys);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "dump target UUID=ffff: no device with UUID=ffff");
  auto d = target_module_requests(config_of("xfs /dev/nonexistent9\n"), "", f.sys);
  REQUIRE_FALSE(d);
  CHECK_THAT(d.error().message(),
             Catch::Contains("/dev/nonexistent9") && Catch::Contains("not a block device"));
}

namespace {

/// A tree t/var whose filesystem's MAJ:MIN is vdb1 in the fake sysfs t/sys.
struct PathTree {
  TempDir t;
  std::string majmin;
  PathTree() {
    fs::create_directories(t.dir / "var");
    struct stat st {};
    REQUIRE(::stat((t.dir / "var").c_str(), &st) == 0);
    add_fake_sysfs(t.dir / "sys", major(st.st_dev), minor(st.st_dev));
    majmin = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  }
};

} // namespace

TEST_CASE("target: no target line: the device and type of the filesystem holding path",
          "[target]") {
  PathTree tree;
  const TempDir& t = tree.t;
  const std::string& majmin = tree.majmin;
  put(t.dir / "proc/self/mountinfo", "21 1 0:20 / /proc rw - proc proc rw\n"
                                     "22 1 " +
                                         majmin +
                                         " / / rw,relatime shared:1 - ext4 /dev/vdb1 rw\n");
  SystemView sys;
  sys.sysfs = (t.dir / "sys").string();
  sys.proc = (t.dir / "proc").string();
  // /var/crash does not exist yet: its parent's filesystem counts.
  auto reqs = target_module_requests(config_of("path /var/crash\n"), t.dir.string(), sys);
  REQUIRE(reqs);
  CHECK(names(*reqs) == V{"virtio_pci", "virtio_blk", "ext4"});

  // On no block device (tmpfs, overlay): a warning and no modules.
  fs::remove_all(t.dir / "sys/dev");
  put(t.dir / "proc/self/mountinfo", "22 1 " + majmin + " / / rw - overlay overlay rw\n");
  auto none = target_module_requests(config_of("path /var/crash\n"), t.dir.string(), sys);
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("target: device mapper: the slaves' chains, then dm_mod and dm_crypt", "[target]") {
  FakeSystem f;
  const fs::path sys = f.t.dir / "sys";
  put(sys / "devices/virtual/block/dm-0/dm/uuid", "CRYPT-LUKS2-abc-crypt\n");
  link(sys / "devices/virtual/block/dm-0/slaves/vdb1",
       "../../../../pci0000:00/0000:00:04.0/virtio1/block/vdb/vdb1");
  link(sys / "class/block/dm-0", "../../devices/virtual/block/dm-0");
  auto mods = device_chain_modules(fs::canonical(sys / "class/block/dm-0").string(), f.sys);
  REQUIRE(mods);
  V got;
  for (const auto& m : *mods)
    got.push_back(m.name);
  CHECK(got == V{"virtio_pci", "virtio_blk", "dm_mod", "dm_crypt"});
}

namespace {

// lvm2's dm uuid: "LVM-" + VG uuid + LV uuid, 32 characters each, no dashes.
const std::string kVgUuid = "Zk3Qx1yRr0aB2cD4eF6gH8iJ0kL2mN4o";
std::string lvm_uuid(char lv) {
  return "LVM-" + kVgUuid + std::string(31, 'p') + lv;
}

constexpr const char* kNoLuks =
    ": the capture kernel cannot unlock an encrypted device (no passphrase or TPM there); use a "
    "filesystem on a plain partition or disk, or a raw partition";
constexpr const char* kNoLvm = ": the capture image does not assemble LVM volumes; use a "
                               "filesystem on a plain partition or disk, or a raw partition";
constexpr const char* kNoMd = ": the capture image does not assemble md arrays; use a "
                              "filesystem on a plain partition or disk, or a raw partition";

/// The fake system with a second virtio disk vdc (no partitions) and stacked devices added by
/// add(); UUID=dump resolves to /dev/TOP.
struct StackedSystem : FakeSystem {
  fs::path sysfs = t.dir / "sys";
  explicit StackedSystem(const std::string& top) {
    const std::string pci = "devices/pci0000:00/0000:00:05.0";
    link(sysfs / pci / "driver", "../../../bus/pci/drivers/virtio-pci");
    link(sysfs / pci / "virtio2/driver", "../../../../bus/virtio/drivers/virtio_blk");
    link(sysfs / pci / "virtio2/block/vdc/device", "../../../virtio2");
    link(sysfs / "class/block/vdc", "../../" + pci + "/virtio2/block/vdc");
    sys.evaluate_tag = [top](const conf::DeviceRef& ref) -> Result<std::string> {
      if (ref.value == "dump")
        return "/dev/" + top;
      return Error(ErrorCategory::no_input, "no device with " + ref.str());
    };
  }
  /// A virtual block device NAME with attributes (path below its directory → first line) on
  /// SLAVES (names in class/block).
  void add(const std::string& name, const std::vector<std::pair<std::string, std::string>>& attrs,
           const V& slaves) {
    const fs::path d = sysfs / "devices/virtual/block" / name;
    for (const auto& [k, v] : attrs)
      put(d / k, v + "\n");
    fs::create_directories(d / "slaves");
    for (const auto& s : slaves)
      link(d / "slaves" / s, fs::canonical(sysfs / "class/block" / s).string());
    link(sysfs / "class/block" / name, "../../devices/virtual/block/" + name);
  }
  void dm(const std::string& name, const std::string& dm_name, const std::string& uuid,
          const V& slaves) {
    add(name, {{"dm/name", dm_name}, {"dm/uuid", uuid}}, slaves);
  }
  Result<std::vector<std::string>> check(const std::string& config = "ext4 UUID=dump\n") {
    return check_capture_reach(config_of(config), "", sys);
  }
};

/// rebuild_if_needed (start's path) on `config` with an image kept by force_no_rebuild, and with
/// --force: refused (unsupported) with a message `what` matches, the image left as it was.
template <typename Matcher>
void refused_with_image_kept(const FakeSystem& f, const std::string& config, const Matcher& what) {
  BuildRequest req;
  req.kernel = kKver;
  req.output = (f.t.dir / "initramfs.img").string();
  req.system = f.sys;
  put(req.output, "an image from before\n");
  for (const bool force : {false, true}) {
    auto r = rebuild_if_needed(req, config_of(config + "force_no_rebuild yes\n"), force);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::unsupported);
    CHECK_THAT(r.error().message(), what);
  }
  CHECK(slurp(req.output) == "an image from before\n");
}

/// The error's text after "dump target UUID=dump: ".
std::string refusal(const Result<std::vector<std::string>>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::unsupported);
  const std::string prefix = "dump target UUID=dump: ";
  const std::string m = r.error().message();
  REQUIRE(m.rfind(prefix, 0) == 0);
  return m.substr(prefix.size());
}

} // namespace

TEST_CASE("target chain: a plain partition passes, its layers are partition and disk",
          "[target][chain]") {
  StackedSystem f("vdb1");
  auto chain = walk_device_chain(fs::canonical(f.sysfs / "class/block/vdb1").string(), f.sys);
  REQUIRE(chain);
  CHECK(chain->top.kind == DeviceLayer::Kind::partition);
  REQUIRE(chain->top.below.size() == 1);
  CHECK(chain->top.below[0].kind == DeviceLayer::Kind::disk);
  CHECK(chain->top.below[0].driver == "virtio_blk");
  CHECK(chain->top.str() == "vdb1");
  auto ok = f.check();
  REQUIRE(ok);
  CHECK(ok->empty());
  StackedSystem disk("vdc");
  REQUIRE(disk.check());
}

TEST_CASE("target chain: LUKS on a partition is refused, naming the chain", "[target][chain]") {
  StackedSystem f("dm-0");
  f.dm("dm-0", "cryptdump", "CRYPT-LUKS2-0b5e1b2e1c4e4c499a9e4b2f0a6f1d02-cryptdump", {"vdb1"});
  CHECK(refusal(f.check()) ==
        std::string("/dev/mapper/cryptdump (LUKS2, dm-crypt dm-0) on vdb1") + kNoLuks);
  // Plain dm-crypt, and a dm device without a name, say so too.
  StackedSystem p("dm-0");
  p.add("dm-0", {{"dm/uuid", "CRYPT-PLAIN-cryptdump"}}, {"vdb1"});
  CHECK(refusal(p.check()) == std::string("dm-0 (dm-crypt PLAIN) on vdb1") + kNoLuks);
}

TEST_CASE("target chain: an LVM LV on a partition is refused", "[target][chain]") {
  StackedSystem f("dm-0");
  f.dm("dm-0", "vg0-dump", lvm_uuid('a'), {"vdb1"});
  CHECK(refusal(f.check()) == std::string("/dev/mapper/vg0-dump (LVM LV dm-0) on vdb1") + kNoLvm);
}

TEST_CASE("target chain: encryption under or over LVM is refused as encryption",
          "[target][chain]") {
  SECTION("LVM on LUKS") {
    StackedSystem f("dm-1");
    f.dm("dm-0", "cryptpv", "CRYPT-LUKS2-0b5e1b2e1c4e4c499a9e4b2f0a6f1d02-cryptpv", {"vdb1"});
    f.dm("dm-1", "vg0-dump", lvm_uuid('a'), {"dm-0"});
    CHECK(refusal(f.check()) == std::string("/dev/mapper/vg0-dump (LVM LV dm-1) on "
                                            "/dev/mapper/cryptpv (LUKS2, dm-crypt dm-0) on vdb1") +
                                    kNoLuks);
  }
  SECTION("LUKS on LVM") {
    StackedSystem f("dm-1");
    f.dm("dm-0", "vg0-secret", lvm_uuid('a'), {"vdb1"});
    f.dm("dm-1", "secret", "CRYPT-LUKS1-0b5e1b2e1c4e4c499a9e4b2f0a6f1d02-secret", {"dm-0"});
    CHECK(refusal(f.check()) == std::string("/dev/mapper/secret (LUKS1, dm-crypt dm-1) on "
                                            "/dev/mapper/vg0-secret (LVM LV dm-0) on vdb1") +
                                    kNoLuks);
  }
}

TEST_CASE("target chain: an md RAID1 of two disks is refused, naming both", "[target][chain]") {
  StackedSystem f("md0");
  f.add("md0", {{"md/level", "raid1"}, {"md/uuid", "3a0c8a4e:51c1e1b0:9b5c61e2:0d3f4a77"}},
        {"vdb1", "vdc"});
  CHECK(refusal(f.check()) ==
        std::string("/dev/md0 (md raid1 array 3a0c8a4e:51c1e1b0:9b5c61e2:0d3f4a77) on "
                    "[vdb1, vdc (virtio_blk)]") +
            kNoMd);
  auto mods = device_chain_modules(fs::canonical(f.sysfs / "class/block/md0").string(), f.sys);
  REQUIRE(mods);
  V got;
  for (const auto& m : *mods)
    got.push_back(m.name);
  CHECK(got == V{"virtio_pci", "virtio_blk", "md_mod", "raid1"});
}

TEST_CASE("target chain: a thin LV is refused as LVM, the pool and its parts are named",
          "[target][chain]") {
  StackedSystem f("dm-3");
  f.dm("dm-0", "vg0-pool_tmeta", lvm_uuid('m') + "-tmeta", {"vdb1"});
  f.dm("dm-1", "vg0-pool_tdata", lvm_uuid('d') + "-tdata", {"vdb1"});
  f.dm("dm-2", "vg0-pool-tpool", lvm_uuid('d') + "-tpool", {"dm-0", "dm-1"});
  f.dm("dm-3", "vg0-thin", lvm_uuid('t'), {"dm-2"});
  auto chain = walk_device_chain(fs::canonical(f.sysfs / "class/block/dm-3").string(), f.sys);
  REQUIRE(chain);
  CHECK(chain->top.kind == DeviceLayer::Kind::lvm_lv);
  REQUIRE(chain->top.below.size() == 1);
  CHECK(chain->top.below[0].kind == DeviceLayer::Kind::dm_other);
  CHECK(refusal(f.check()) ==
        std::string("/dev/mapper/vg0-thin (LVM LV dm-3) on /dev/mapper/vg0-pool-tpool (LVM thin "
                    "pool dm-2) on [/dev/mapper/vg0-pool_tmeta (LVM tmeta layer dm-0) on vdb1, "
                    "/dev/mapper/vg0-pool_tdata (LVM tdata layer dm-1) on vdb1]") +
            kNoLvm);
}

TEST_CASE("target chain: multipath and loop devices are refused", "[target][chain]") {
  StackedSystem m("dm-0");
  m.dm("dm-0", "mpatha", "mpath-360014380056efe1f0000a00000b40000", {"vdc"});
  CHECK(refusal(m.check()) == "/dev/mapper/mpatha (multipath dm-0) on vdc (virtio_blk): the "
                              "capture image does not set up device-mapper devices; use a "
                              "filesystem on a plain partition or disk, or a raw partition");
  StackedSystem l("loop0");
  l.add("loop0", {{"loop/backing_file", "/srv/crash.img"}}, {});
  CHECK_THAT(refusal(l.check()),
             Catch::StartsWith("/dev/loop0 (loop on /srv/crash.img): the capture image does not "
                               "set up loop devices"));
}

TEST_CASE("target chain: root_fs on an LV is refused, dump_to_rootfs's root on one is a warning",
          "[target][chain]") {
  PathTree tree;
  const TempDir& t = tree.t;
  const std::string& majmin = tree.majmin;
  const fs::path sys = t.dir / "sys";
  put(sys / "devices/virtual/block/dm-0/dm/name", "vg0-root\n");
  put(sys / "devices/virtual/block/dm-0/dm/uuid", lvm_uuid('r') + "\n");
  link(sys / "devices/virtual/block/dm-0/slaves/vdb1",
       "../../../../pci0000:00/0000:00:04.0/virtio1/block/vdb/vdb1");
  link(sys / "class/block/dm-0", "../../devices/virtual/block/dm-0");
  link(sys / "dev/block" / majmin, "../../devices/virtual/block/dm-0");
  put(t.dir / "proc/self/mountinfo",
      "22 1 " + majmin + " / / rw,relatime shared:1 - ext4 /dev/mapper/vg0-root rw\n");
  SystemView view;
  view.sysfs = sys.string();
  view.proc = (t.dir / "proc").string();
  view.evaluate_tag = [](const conf::DeviceRef&) -> Result<std::string> {
    return std::string("/dev/vdb1");
  };

  auto r = check_capture_reach(config_of("path /var/crash\n"), t.dir.string(), view);
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::unsupported);
  CHECK(r.error().message() == std::string("dump target the filesystem of /var/crash: "
                                           "/dev/mapper/vg0-root (LVM LV dm-0) on vdb1") +
                                   kNoLvm);

  // The target itself is a plain partition: armed, with a warning about the failure action.
  auto w = check_capture_reach(config_of("ext4 LABEL=crash\nfailure_action dump_to_rootfs\n"),
                               t.dir.string(), view);
  REQUIRE(w);
  REQUIRE(w->size() == 1);
  CHECK_THAT(w->at(0), Catch::StartsWith("failure_action dump_to_rootfs (") &&
                           Catch::EndsWith(") cannot save a dump: the root filesystem is on "
                                           "/dev/mapper/vg0-root (LVM LV dm-0) on vdb1: the "
                                           "capture image does not assemble LVM volumes"));
  auto quiet = check_capture_reach(config_of("ext4 LABEL=crash\n"), t.dir.string(), view);
  REQUIRE(quiet);
  CHECK(quiet->empty());

  // rebuild_if_needed (start's path) hands the warning on, with an image kept or not.
  BuildRequest req;
  req.root = t.dir.string();
  req.kernel = kKver;
  req.output = (t.dir / "initramfs.img").string();
  req.system = view;
  put(req.output, "an image from before\n");
  auto kept = rebuild_if_needed(
      req, config_of("ext4 LABEL=crash\nfailure_action dump_to_rootfs\nforce_no_rebuild yes\n"),
      false);
  REQUIRE(kept);
  CHECK_FALSE(kept->rebuilt);
  CHECK(kept->warnings == *w);
}

TEST_CASE("target chain: rebuild refuses an unreachable target even with an image kept",
          "[target][chain]") {
  StackedSystem f("dm-0");
  f.dm("dm-0", "vg0-dump", lvm_uuid('a'), {"vdb1"});
  refused_with_image_kept(f, "ext4 UUID=dump\n", Catch::EndsWith(std::string("on vdb1") + kNoLvm));
}

namespace {

/// StackedSystem("vdb1") whose device nodes are image files below DIR/dev.
struct RawSystem : StackedSystem {
  fs::path dev = t.dir / "dev";
  RawSystem() : StackedSystem("vdb1") {
    fs::create_directories(dev);
    sys.dev = dev.string();
  }
  /// Runs a shell command on the image of NAME ("{}" in it); a missing tool fails the case.
  void image(const std::string& name, std::string cmd) const {
    const std::string path = (dev / name).string();
    for (auto at = cmd.find("{}"); at != std::string::npos; at = cmd.find("{}"))
      cmd.replace(at, 2, "'" + path + "'");
    INFO(cmd);
    REQUIRE(sh(cmd + " >/dev/null 2>&1") == 0);
  }
};

constexpr const char* kWipefs =
    "; a raw target is written from its first byte, which would destroy "
    "that; once sure nothing on it is needed, clear it with wipefs -a ";

} // namespace

TEST_CASE("target raw: a filesystem or partition table on the device is refused", "[target][raw]") {
  RawSystem f;
  f.image("vdb1", "mkfs.ext4 -q -F -L home -U 6d7c4d1e-3a52-4b8e-9f51-2f0e3c1b7a90 {} 4M");
  auto r = f.check("raw /dev/vdb1\n");
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::unsupported);
  CHECK(r.error().message() ==
        std::string("raw dump target /dev/vdb1 is not empty: ext4 filesystem "
                    "UUID=6d7c4d1e-3a52-4b8e-9f51-2f0e3c1b7a90, LABEL=home") +
            kWipefs + "/dev/vdb1, or name another device");

  f.image("vdc", "truncate -s 4M {} && printf 'label: gpt\\n,\\n' | sfdisk -q {}");
  auto pt = f.check("raw /dev/vdc\n");
  REQUIRE_FALSE(pt);
  CHECK(pt.error().category() == ErrorCategory::unsupported);
  CHECK_THAT(pt.error().message(),
             Catch::StartsWith("raw dump target /dev/vdc is not empty: gpt partition table "));
}

TEST_CASE("target raw: zeroes and crashkit's own stream pass, a missing node is not refused",
          "[target][raw]") {
  RawSystem f;
  auto missing = f.check("raw /dev/vdb1\n");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().category() == ErrorCategory::no_input);
  CHECK_THAT(missing.error().message(), Catch::Contains("dump target /dev/vdb1: open"));

  f.image("vdb1", "truncate -s 4M {}");
  auto zero = f.check("raw /dev/vdb1\n");
  REQUIRE(zero);
  CHECK(zero->empty());
  // A stream an earlier capture left over an old filesystem: start saves it, then rewrites it.
  f.image("vdb1", "mkfs.ext4 -q -F {} 4M && printf makedumpfile | dd of={} conv=notrunc");
  REQUIRE(f.check("raw /dev/vdb1\n"));
  // Only a raw target is written over: a filesystem target on the same device passes.
  f.image("vdb1", "mkfs.ext4 -q -F {} 4M");
  REQUIRE(f.check("ext4 /dev/vdb1\n"));
}

TEST_CASE("target raw: rebuild refuses a device with a filesystem even with an image kept",
          "[target][raw]") {
  RawSystem f;
  f.image("vdb1", "mkfs.ext4 -q -F {} 4M");
  refused_with_image_kept(f, "raw /dev/vdb1\n", Catch::Contains("ext4 filesystem UUID="));
}
