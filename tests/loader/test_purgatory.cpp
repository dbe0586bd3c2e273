#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "crashkit/loader/purgatory.hpp"
#include "purgatory_abi.h"
#include "sha256.h"

using namespace crashkit::loader;

namespace {

std::array<std::uint8_t, 32> ours(std::span<const DigestRegion> regions, std::size_t chunk) {
  ck_sha256 s;
  ck_sha256_init(&s);
  for (const auto& r : regions)
    for (std::size_t off = 0; off < r.bytes.size(); off += chunk)
      ck_sha256_update(&s, r.bytes.data() + off, std::min(chunk, r.bytes.size() - off));
  std::array<std::uint8_t, 32> out{};
  ck_sha256_final(&s, out.data());
  return out;
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

ck_purgatory_params params_of(const std::vector<std::byte>& img) {
  ck_purgatory_params p;
  std::memcpy(&p, img.data() + CK_PURGATORY_PARAMS_OFFSET, sizeof p);
  return p;
}

} // namespace

TEST_CASE("purgatory sha256: FIPS 180-4 examples", "[purgatory]") {
  const std::string abc = "abc";
  const DigestRegion r{0, bytes_of(abc)};
  const std::array<std::uint8_t, 32> want = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                             0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                             0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                             0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  CHECK(ours({&r, 1}, 64) == want);
  CHECK(segments_digest({&r, 1}) == want);
}

TEST_CASE("purgatory sha256 equals OpenSSL for every length and split", "[purgatory]") {
  std::mt19937 rng(42);
  std::vector<std::byte> data(20000);
  for (auto& b : data)
    b = static_cast<std::byte>(rng());
  // Lengths around block and padding boundaries, then random ones, hashed as 1-3 regions fed in
  // odd chunk sizes: the purgatory sees segment boundaries anywhere.
  std::vector<std::size_t> lens = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 4096, 19999};
  for (int i = 0; i < 40; ++i)
    lens.push_back(rng() % data.size());
  for (std::size_t len : lens) {
    const std::size_t cut = len / 3;
    std::vector<DigestRegion> regions = {{0x1000, std::span(data).first(cut)},
                                         {0x9000, std::span(data).subspan(cut, len - cut)}};
    for (std::size_t chunk : {1u, 7u, 64u, 1000u, 1u << 20}) {
      INFO("len " << len << " chunk " << chunk);
      CHECK(ours(regions, chunk) == segments_digest(regions));
    }
  }
}

TEST_CASE("purgatory image: parameter block where the loader looks", "[purgatory]") {
  auto t = purgatory_template();
  REQUIRE(t.size() == purgatory_size());
  REQUIRE(t.size() > CK_PURGATORY_PARAMS_OFFSET + sizeof(ck_purgatory_params));
  // The first instruction jumps over the parameter block: EB rel8 or E9 rel32.
  const auto op = std::to_integer<unsigned>(t[0]);
  CHECK((op == 0xeb || op == 0xe9));
  std::vector<std::byte> copy(t.begin(), t.end());
  CHECK(params_of(copy).magic == CK_PURGATORY_MAGIC);
}

TEST_CASE("purgatory image: entry, boot_params and digest are patched, nothing else",
          "[purgatory]") {
  const std::string a(5000, 'a'), b = "boot params";
  PurgatoryRequest req;
  req.entry_rip = 0x7b000200;
  req.entry_rsi = 0x7e000000;
  req.regions = {{0x7b000000, bytes_of(a)}, {0x7e000000, bytes_of(b)}};
  auto img = build_purgatory(req);
  REQUIRE(img);
  const auto p = params_of(*img);
  CHECK(p.magic == CK_PURGATORY_MAGIC);
  CHECK(p.entry_rip == 0x7b000200);
  CHECK(p.entry_rsi == 0x7e000000);
  REQUIRE(p.nr_regions == 2);
  CHECK(p.regions[0].start == 0x7b000000);
  CHECK(p.regions[0].len == 5000);
  CHECK(p.regions[1].start == 0x7e000000);
  CHECK(p.regions[1].len == b.size());
  const auto d = segments_digest(req.regions);
  CHECK(std::memcmp(p.digest, d.data(), 32) == 0);

  auto t = purgatory_template();
  const std::size_t lo = CK_PURGATORY_PARAMS_OFFSET, hi = lo + sizeof(ck_purgatory_params);
  REQUIRE(img->size() == t.size());
  for (std::size_t i = 0; i < t.size(); ++i)
    if (i < lo || i >= hi)
      REQUIRE(t[i] == (*img)[i]);

  req.corrupt_digest = true;
  auto bad = build_purgatory(req);
  REQUIRE(bad);
  const auto pb = params_of(*bad);
  CHECK(std::memcmp(pb.digest, d.data(), 32) != 0);
  CHECK((pb.digest[0] ^ d[0]) == 1);
}

TEST_CASE("purgatory image: at most 16 regions", "[purgatory]") {
  PurgatoryRequest req;
  req.regions.resize(17);
  auto img = build_purgatory(req);
  REQUIRE_FALSE(img);
  CHECK(img.error().category() == crashkit::ErrorCategory::usage);
}
