// probe_foreign_signature on image files made by the tools that make the real thing (e2fsprogs,
// util-linux): what a raw target must not overwrite, and what it may.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture_init/device_signature.hpp"

using namespace crashkit::capture_init;

namespace {

struct Image {
  std::string dir;
  std::string path;
  Image() {
    char tmpl[] = "/tmp/ck-sig-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    dir = tmpl;
    path = dir + "/disk.img";
  }
  ~Image() { (void)std::system(("rm -rf '" + dir + "'").c_str()); }

  /// Runs a shell command on the image ("{}" in it); a missing tool fails the case.
  void sh(const std::string& cmd) const {
    std::string c = cmd;
    for (auto at = c.find("{}"); at != std::string::npos; at = c.find("{}"))
      c.replace(at, 2, "'" + path + "'");
    INFO(c);
    REQUIRE(std::system((c + " >/dev/null 2>&1").c_str()) == 0);
  }
  void zeroed(std::size_t bytes = 4 << 20) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << std::string(bytes, '\0');
  }
  /// What the probe found, "(nothing)" for nullopt.
  std::string probe() const {
    auto r = probe_foreign_signature(path);
    INFO((r ? std::string() : r.error().message()));
    REQUIRE(r);
    return r->value_or("(nothing)");
  }
};

} // namespace

TEST_CASE("a filesystem is foreign, named with its UUID and label", "[signature]") {
  Image img;
  img.sh("mkfs.ext4 -q -F -L home -U 6d7c4d1e-3a52-4b8e-9f51-2f0e3c1b7a90 {} 4M");
  CHECK(img.probe() == "ext4 filesystem UUID=6d7c4d1e-3a52-4b8e-9f51-2f0e3c1b7a90, LABEL=home");
}

TEST_CASE("swap is foreign", "[signature]") {
  Image img;
  img.zeroed();
  img.sh("mkswap -U 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 {}");
  CHECK(img.probe() == "swap signature UUID=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
}

TEST_CASE("a partition table is foreign", "[signature]") {
  Image img;
  img.zeroed();
  SECTION("gpt") {
    img.sh("printf 'label: gpt\\nlabel-id: 9C5B1A44-0E3F-4D6B-8A1E-2B7C3D4E5F60\\n,\\n' | "
           "sfdisk -q {}");
    CHECK(img.probe() == "gpt partition table PTUUID=9c5b1a44-0e3f-4d6b-8a1e-2b7c3d4e5f60");
  }
  SECTION("dos") {
    img.sh("printf 'label: dos\\nlabel-id: 0x1234abcd\\n,\\n' | sfdisk -q {}");
    CHECK(img.probe() == "dos partition table PTUUID=1234abcd");
  }
}

TEST_CASE("zeroes, an unrecognised start and crashkit's own streams may be overwritten",
          "[signature]") {
  Image img;
  SECTION("zeroes") {
    img.zeroed();
    CHECK(img.probe() == "(nothing)");
  }
  SECTION("empty") {
    img.zeroed(0);
    CHECK(img.probe() == "(nothing)");
  }
  SECTION("wiped filesystem") {
    img.sh("mkfs.ext4 -q -F {} 4M");
    img.sh("wipefs -q -a {}");
    CHECK(img.probe() == "(nothing)");
  }
  SECTION("a flattened stream over an old filesystem") {
    img.sh("mkfs.ext4 -q -F {} 4M");
    std::string head(4096, '\0');
    head.replace(0, sizeof crashkit::capture::kFlatSignature - 1,
                 crashkit::capture::kFlatSignature);
    std::fstream f(img.path, std::ios::binary | std::ios::in | std::ios::out);
    f.write(head.data(), static_cast<std::streamsize>(head.size()));
    f.close();
    CHECK(img.probe() == "(nothing)");
  }
}

TEST_CASE("a device that is not there is an error naming it", "[signature]") {
  auto r = probe_foreign_signature("/nonexistent/ck-raw");
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == crashkit::ErrorCategory::no_input);
  CHECK(r.error().message().find("/nonexistent/ck-raw") != std::string::npos);
}

TEST_CASE("the refusal names the device, the signature and the ways out", "[signature]") {
  const auto e = foreign_signature_refusal("/dev/sdb1", "ext4 filesystem UUID=x");
  CHECK(e.category() == crashkit::ErrorCategory::unsupported);
  CHECK(e.message() == "raw dump target /dev/sdb1 is not empty: ext4 filesystem UUID=x; a raw "
                       "target is written from its first byte, which would destroy that; once "
                       "sure nothing on it is needed, clear it with wipefs -a /dev/sdb1, or name "
                       "another device");
}
