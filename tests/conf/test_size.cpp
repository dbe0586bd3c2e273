#include <catch2/catch.hpp>

#include "crashkit/conf/size.hpp"

using namespace crashkit::conf;

namespace {
constexpr std::uint64_t kK = 1024, kM = kK * 1024, kG = kM * 1024, kT = kG * 1024;
}

TEST_CASE("parse_size reads memparse numbers", "[size]") {
  struct Row {
    const char* text;
    std::uint64_t value;
  };
  const Row rows[] = {
      {"0", 0},
      {"1", 1},
      {"4096", 4096},
      {"1K", kK},
      {"1k", kK},
      {"512M", 512 * kM},
      {"512m", 512 * kM},
      {"2G", 2 * kG},
      {"1T", kT},
      {"1P", kT * 1024},
      {"2E", 2 * kT * kM},
      {"0x1000", 4096},
      {"0X10M", 16 * kM},
      {"0xfK", 15 * kK},
      {"18446744073709551615", UINT64_MAX},
      {"15E", 15 * kT * kM},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto v = parse_size(r.text);
    REQUIRE(v);
    CHECK(*v == r.value);
  }
}

TEST_CASE("parse_size errors name the character", "[size]") {
  struct Row {
    const char* text;
    const char* message;
  };
  const Row rows[] = {
      {"", "size \"\" at character 1: expected a size"},
      {"M", "at character 1: expected a size"},
      {"12Q", "at character 3: unexpected character 'Q'"},
      {"1MB", "at character 3: unexpected character 'B'"},
      {"0x", "at character 3: expected hex digits after 0x"},
      {"0xg", "at character 3: expected hex digits after 0x"},
      {"0512M", "at character 1: leading zero: the kernel would read this number as octal"},
      {"18446744073709551616", "at character 1: size does not fit in 64 bits"},
      {"16E", "at character 1: size does not fit in 64 bits"},
      {"0x10000000000000000", "at character 1: size does not fit in 64 bits"},
      {" 1M", "at character 1: expected a size"},
      {"-1M", "at character 1: expected a size"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto v = parse_size(r.text);
    REQUIRE_FALSE(v);
    CHECK(v.error().category() == crashkit::ErrorCategory::data);
    CHECK_THAT(v.error().what(), Catch::Contains(r.message));
  }
}

TEST_CASE("format_size picks the largest exact suffix", "[size]") {
  CHECK(format_size(0) == "0");
  CHECK(format_size(1000) == "1000");
  CHECK(format_size(kK) == "1K");
  CHECK(format_size(4097 * kK) == "4097K");
  CHECK(format_size(1024 * kM) == "1G");
  CHECK(format_size(192 * kM) == "192M");
  CHECK(format_size(3 * kT) == "3T");
  CHECK(format_size(kT * kM) == "1E");
  for (std::uint64_t v : {std::uint64_t{1}, 4095 * kK, 129 * kM, 17 * kG + kK, UINT64_MAX}) {
    auto back = parse_size(format_size(v));
    REQUIRE(back);
    CHECK(*back == v);
  }
}
