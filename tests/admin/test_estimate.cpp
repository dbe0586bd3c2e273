#include <catch2/catch.hpp>
#include <zstd.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "../loader/bzimage_sample.hpp"
#include "crashkit/admin/estimate.hpp"
#include "temp_root.hpp"

using namespace crashkit;
using Catch::Contains;

TEST_CASE("estimate: unpacked initramfs size from its zstd frame", "[admin][estimate]") {
  admin::testing::TempRoot t("crashkit-estimate");
  std::string payload(3u << 20, 'x');
  for (std::size_t i = 0; i < payload.size(); i += 7)
    payload[i] = static_cast<char>(i);
  std::string z(ZSTD_compressBound(payload.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), payload.data(), payload.size(), 3));
  const auto img = (t.p / "initramfs.img").string();
  std::ofstream(img, std::ios::binary) << z;
  auto n = admin::initramfs_unpacked_bytes(img);
  REQUIRE(n);
  CHECK(*n == payload.size());
  std::ofstream(img, std::ios::binary) << "not zstd at all";
  auto bad = admin::initramfs_unpacked_bytes(img);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Contains("not a zstd initramfs"));
}

TEST_CASE("estimate: a kernel that is not a bzImage is named", "[admin][estimate]") {
  admin::testing::TempRoot t("crashkit-estimate");
  const auto k = (t.p / "vmlinuz").string();
  std::ofstream(k, std::ios::binary) << std::string(8192, 'k');
  auto r = admin::kernel_resident_bytes(k);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Contains("not a bzImage"));
}

namespace {

/// A bzImage around `payload`, with payload_offset/payload_length (0x248/0x24c) pointing at it.
std::vector<std::byte> bzimage_with_payload(const std::string& payload) {
  loader::samples::BzImageShape shape;
  shape.payload = (payload.size() + 15) / 16 * 16; // syssize counts 16-byte units
  shape.init_size = 0xf0000000;
  auto img = loader::samples::synthetic_bzimage(shape);
  const std::size_t setup = (std::size_t{shape.setup_sects} + 1) * 512;
  std::memcpy(img.data() + setup, payload.data(), payload.size());
  const std::uint32_t off = 0, len = static_cast<std::uint32_t>(payload.size());
  std::memcpy(img.data() + 0x248, &off, 4);
  std::memcpy(img.data() + 0x24c, &len, 4);
  return img;
}

} // namespace

TEST_CASE("estimate: the kernel image from the ELF unpacked out of the bzImage payload",
          "[admin][estimate]") {
  admin::testing::TempRoot t("crashkit-estimate");
  // This test binary stands in for the vmlinux: an ELF with allocated sections.
  std::ifstream self("/proc/self/exe", std::ios::binary);
  const std::string elf((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
  REQUIRE(elf.size() > 4096);
  std::string z(ZSTD_compressBound(elf.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), elf.data(), elf.size(), 1));
  const auto plain = (t.p / "vmlinuz").string();
  loader::samples::write_file(plain, bzimage_with_payload(z));
  auto n = admin::kernel_resident_bytes(plain);
  INFO((n ? "" : n.error().message()));
  REQUIRE(n);
  CHECK(*n > 0);
  CHECK(*n < elf.size());

  // As the kernel build appends it: the uncompressed size after the compressed stream.
  const auto size = static_cast<std::uint32_t>(elf.size());
  const auto trailed = (t.p / "vmlinuz-trailed").string();
  loader::samples::write_file(
      trailed, bzimage_with_payload(z + std::string(reinterpret_cast<const char*>(&size), 4)));
  auto m = admin::kernel_resident_bytes(trailed);
  INFO((m ? "" : m.error().message()));
  REQUIRE(m);
  CHECK(*m == *n);

  // Bytes libarchive knows no filter for are taken as they are (its raw format): not an ELF.
  const auto garbage = (t.p / "vmlinuz-garbage").string();
  loader::samples::write_file(garbage, bzimage_with_payload(std::string(4096, 'g')));
  auto bad = admin::kernel_resident_bytes(garbage);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().category() == ErrorCategory::data);
  CHECK_THAT(bad.error().message(), Contains(garbage) && Contains("not an ELF vmlinux"));

  // A zstd stream cut in half fails in the decompressor, named with the file.
  const auto cut = (t.p / "vmlinuz-cut").string();
  loader::samples::write_file(cut, bzimage_with_payload(z.substr(0, z.size() / 2)));
  auto broken = admin::kernel_resident_bytes(cut);
  REQUIRE_FALSE(broken);
  INFO(broken.error().message());
  CHECK(broken.error().category() == ErrorCategory::data);
  CHECK_THAT(broken.error().message(), Contains(cut + ": ") && Contains("kernel payload"));
}

TEST_CASE("estimate: the verdict against the reservation", "[admin][estimate]") {
  admin::Estimate e;
  e.parts = {{"kernel image", 46u << 20, "x"},
             {"kernel runtime", 24u << 20, "y"},
             {"capture initramfs", 12u << 20, "z"},
             {"crashkit-capture", 11u << 20, "w"}};
  CHECK(e.total() == (93u << 20));
  CHECK_THAT(admin::format_estimate(e, 96u << 20),
             Contains("total") && Contains("93 MiB") &&
                 Contains("reserved: 96 MiB, 3 MiB to spare"));
  CHECK_THAT(admin::format_estimate(e, 80u << 20),
             Contains("WARNING: the reservation of 80 MiB is smaller than the estimate"));
  CHECK_THAT(admin::format_estimate(e, 0), Contains("reserved: none"));
}
