#include <catch2/catch.hpp>

#include "crashkit/conf/config_parser.hpp"
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

TEST_CASE("target: no target line: the device and type of the filesystem holding path",
          "[target]") {
  TempDir t;
  fs::create_directories(t.dir / "var");
  struct stat st {};
  REQUIRE(::stat((t.dir / "var").c_str(), &st) == 0);
  const unsigned maj = major(st.st_dev), min = minor(st.st_dev);
  add_fake_sysfs(t.dir / "sys", maj, min);
  const std::string majmin = std::to_string(maj) + ":" + std::to_string(min);
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
