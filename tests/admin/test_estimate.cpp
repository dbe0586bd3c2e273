#include <catch2/catch.hpp>
#include <zstd.h>

#include <fstream>

#include "crashkit/admin/estimate.hpp"
#include "temp_root.hpp"

using namespace crashkit;
using Catch::Contains;

TEST_CASE("estimate: unpacked initramfs size from its zstd frame", "[admin][estimate]") {
  admin::testing::TempRoot t("crashkit-estimate");
  std::string payload(3u << 20, 'x');
  for (std::size_t i = 0; i < payload.size(); i += 7) payload[i] = static_cast<char>(i);
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

TEST_CASE("estimate: the verdict against the reservation", "[admin][estimate]") {
  admin::Estimate e;
  e.parts = {{"kernel image", 46u << 20, "x"}, {"kernel runtime", 24u << 20, "y"},
             {"capture initramfs", 12u << 20, "z"}, {"crashkit-capture", 11u << 20, "w"}};
  CHECK(e.total() == (93u << 20));
  CHECK_THAT(admin::format_estimate(e, 96u << 20), Contains("total") && Contains("93 MiB") &&
                                                       Contains("reserved: 96 MiB, 3 MiB to spare"));
  CHECK_THAT(admin::format_estimate(e, 80u << 20),
             Contains("WARNING: the reservation of 80 MiB is smaller than the estimate"));
  CHECK_THAT(admin::format_estimate(e, 0), Contains("reserved: none"));
}
