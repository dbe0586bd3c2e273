#include <catch2/catch.hpp>

#include <sys/utsname.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "crashkit/initramfs/module_resolver.hpp"
#include "fixtures.hpp"

using namespace crashkit;
using namespace crashkit::initramfs;
using namespace ckt;
using V = std::vector<std::string>;

namespace {

std::vector<std::string> names(const std::vector<ModuleFile>& mods) {
  std::vector<std::string> out;
  for (const auto& m : mods)
    out.push_back(m.name);
  return out;
}

/// modules.dep as text: relative path → its dependencies, to check the order independently of
/// libkmod.
std::map<std::string, V> read_modules_dep(const fs::path& dir) {
  std::map<std::string, V> deps;
  std::istringstream in(slurp(dir / "modules.dep"));
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    std::istringstream rest(line.substr(colon + 1));
    V d;
    std::string w;
    while (rest >> w)
      d.push_back(w);
    deps[line.substr(0, colon)] = d;
  }
  return deps;
}

void check_dependencies_first(const std::vector<ModuleFile>& mods, const fs::path& dir) {
  const auto deps = read_modules_dep(dir);
  std::map<std::string, std::size_t> pos;
  for (std::size_t i = 0; i < mods.size(); ++i)
    pos[mods[i].relative_path] = i;
  for (std::size_t i = 0; i < mods.size(); ++i) {
    INFO(mods[i].relative_path);
    REQUIRE(deps.count(mods[i].relative_path) == 1);
    for (const auto& d : deps.at(mods[i].relative_path)) {
      INFO("needs " << d);
      REQUIRE(pos.count(d) == 1);
      CHECK(pos.at(d) < i);
    }
  }
}

} // namespace

TEST_CASE("modules: dependencies and pre-softdeps first, builtins skipped, files as shipped",
          "[modules]") {
  INFO("the fake module tree needs depmod (kmod), gcc and xz (xz-utils)");
  REQUIRE(have("depmod"));
  REQUIRE(have("gcc"));
  REQUIRE(have("xz"));
  TempDir t;
  add_fake_modules(t.dir);
  auto root = RootDir::open(t.dir.string());
  REQUIRE(root);
  auto r = ModuleResolver::create(*root, kKver);
  REQUIRE(r);
  auto mods = r->resolve({{"virtio_pci", "target", false, {}},
                          {"virtio_blk", "target", false, {}},
                          {"ext3", "fs", true, "fs-ext3"},
                          {"loop", "extra_modules", true, {}}});
  REQUIRE(mods);
  CHECK(names(*mods) == V{"virtio", "virtio_ring", "virtio_pci", "virtio_blk", "crc32c_generic",
                          "mbcache", "jbd2", "ext4"});
  check_dependencies_first(*mods, t.dir / "lib/modules" / kKver);
  CHECK(mods->at(5).relative_path == "kernel/fs/mbcache.ko.xz");

  SECTION("a required module that does not exist names it, why and where") {
    auto bad = r->resolve({{"nosuchmod", "extra_modules at crashkit.conf:3", true, {}}});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message() == "module nosuchmod (extra_modules at crashkit.conf:3) not "
                                   "found in " +
                                       (t.dir / "lib/modules" / kKver).string());
  }
  SECTION("an optional one is skipped") {
    auto ok = r->resolve({{"nosuchmod", "target", false, {}}, {"sd_mod", "target", false, {}}});
    REQUIRE(ok);
    CHECK(names(*ok) == V{"sd_mod"});
  }
}

TEST_CASE("modules: a kernel without a module directory", "[modules]") {
  TempDir t;
  auto root = RootDir::open(t.dir.string());
  REQUIRE(root);
  auto r = ModuleResolver::create(*root, "5.0.0-none");
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::no_input);
  CHECK_THAT(r.error().message(), Catch::Contains("no module directory for kernel 5.0.0-none"));
}

TEST_CASE("modules: the host's own kernel: ext4 and virtio_blk with their dependencies",
          "[modules][host]") {
  // CRASHKIT_TEST_MODULES_ROOT/CRASHKIT_TEST_KVER point at another tree (an unpacked
  // linux-image .deb after depmod -b) on machines without modules of their own: ctest runs this
  // case through tests/initramfs/with-module-tree, which provides one there.
  utsname u{};
  ::uname(&u);
  const char* env_root = std::getenv("CRASHKIT_TEST_MODULES_ROOT");
  const char* env_kver = std::getenv("CRASHKIT_TEST_KVER");
  const std::string tree = env_root && env_kver ? env_root : "/";
  const std::string kver = env_root && env_kver ? env_kver : u.release;
  const fs::path dir = fs::path(tree) / "lib/modules" / kver;
  INFO("no " << dir.string()
             << "/modules.dep.bin: give CRASHKIT_TEST_MODULES_ROOT and "
                "CRASHKIT_TEST_KVER (ctest's initramfs.host-modules does)");
  REQUIRE(fs::exists(dir / "modules.dep.bin"));
  auto root = RootDir::open(tree);
  REQUIRE(root);
  auto r = ModuleResolver::create(*root, kver);
  REQUIRE(r);
  auto mods = r->resolve({{"virtio_pci", "target", false, {}},
                          {"virtio_blk", "target", false, {}},
                          {"ext4", "fs", true, "fs-ext4"}});
  REQUIRE(mods);
  V got = names(*mods);
  INFO(Catch::Detail::stringify(got));
  for (const char* m : {"virtio_blk", "ext4", "jbd2", "mbcache"})
    CHECK(std::find(got.begin(), got.end(), m) != got.end());
  for (const auto& m : *mods) {
    INFO(m.relative_path);
    CHECK(fs::is_regular_file(dir / m.relative_path));
  }
  check_dependencies_first(*mods, dir);
}
