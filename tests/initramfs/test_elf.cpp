#include <catch2/catch.hpp>

#include "crashkit/initramfs/elf_deps.hpp"
#include "fixtures.hpp"

using namespace crashkit::initramfs;
using namespace ckt;

TEST_CASE("elf: /bin/true in a tree needs the loader and libc at their absolute paths", "[elf]") {
  TempDir t;
  add_true_and_libs(t.dir);
  auto root = RootDir::open(t.dir.string());
  REQUIRE(root);
  const std::string bytes = slurp(t.dir / "bin/true");
  auto needs = read_elf_needs(bytes, "/bin/true");
  REQUIRE(needs);
  CHECK(needs->interpreter == "/lib64/ld-linux-x86-64.so.2");
  CHECK(needs->needed == std::vector<std::string>{"libc.so.6"});

  auto files = resolve_elf_closure(*root, bytes, "/bin/true", "/bin");
  REQUIRE(files);
  std::vector<std::string> paths;
  for (const auto& [p, data] : *files)
    paths.push_back(p);
  CHECK(paths ==
        std::vector<std::string>{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"});
  CHECK(files->at("/lib/x86_64-linux-gnu/libc.so.6") == slurp("/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST_CASE("elf: absolute symlinks resolve inside the tree, never on the host", "[elf]") {
  TempDir t;
  add_true_and_libs(t.dir);
  // Like Debian's /lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2.
  fs::rename(t.dir / "lib64/ld-linux-x86-64.so.2",
             t.dir / "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  link(t.dir / "lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  auto root = RootDir::open(t.dir.string());
  REQUIRE(root);
  auto files = resolve_elf_closure(*root, slurp(t.dir / "bin/true"), "/bin/true", "/bin");
  REQUIRE(files);
  CHECK(files->count("/lib64/ld-linux-x86-64.so.2") == 1);

  // Gone from the tree: found nowhere, even though the host has one.
  fs::remove(t.dir / "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  auto missing = resolve_elf_closure(*root, slurp(t.dir / "bin/true"), "/bin/true", "/bin");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(),
             Catch::Contains("/bin/true") && Catch::Contains("ld-linux-x86-64.so.2"));
}

TEST_CASE("elf: a missing library names the binary and the library", "[elf]") {
  TempDir t;
  add_true_and_libs(t.dir);
  fs::remove(t.dir / "lib/x86_64-linux-gnu/libc.so.6");
  auto root = RootDir::open(t.dir.string());
  REQUIRE(root);
  auto r = resolve_elf_closure(*root, slurp(t.dir / "bin/true"), "/usr/sbin/crashkit-capture", "/");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(),
             Catch::StartsWith("/usr/sbin/crashkit-capture: needed library libc.so.6 not found in "
                               "/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib64"));
  CHECK_THAT(r.error().message(), Catch::EndsWith("below " + t.dir.string()));
}

TEST_CASE("elf: not an ELF file", "[elf]") {
  auto r = read_elf_needs("#!/bin/sh\n", "hook");
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "hook: not an ELF file");
}

TEST_CASE("elf: the real crashkit-capture from the live system, recursively", "[elf]") {
  auto root = RootDir::open("/");
  REQUIRE(root);
  const std::string bytes = slurp(CAPTURE_BINARY);
  auto needs = read_elf_needs(bytes, CAPTURE_BINARY);
  REQUIRE(needs);
  auto files = resolve_elf_closure(*root, bytes, CAPTURE_BINARY, "/");
  REQUIRE(files);
  CHECK(files->count(needs->interpreter) == 1);
  // Every DT_NEEDED of every object in the closure is satisfied inside it.
  std::set<std::string> names;
  for (const auto& [p, data] : *files)
    names.insert(fs::path(p).filename().string());
  std::vector<std::string> all_needed = needs->needed;
  for (const auto& [p, data] : *files) {
    auto n = read_elf_needs(data, p);
    REQUIRE(n);
    all_needed.insert(all_needed.end(), n->needed.begin(), n->needed.end());
  }
  for (const auto& lib : all_needed) {
    INFO(lib);
    CHECK(names.count(lib) == 1);
  }
  CHECK(names.count("libc.so.6") == 1);
  CHECK(names.count("libstdc++.so.6") == 1);
}
