#include <catch2/catch.hpp>

#include <array>

#include "crashkit/loader/e820.hpp"
#include "samples.hpp"

using namespace crashkit::loader;

namespace {

// A q35 VM with ACPI tables nested in a firmware "Reserved" range and an MMCONFIG window.
constexpr const char* kIomemAcpi = "00000000-00000fff : Reserved\n"
                                   "00001000-0009fbff : System RAM\n"
                                   "0009fc00-0009ffff : Reserved\n"
                                   "000f0000-000fffff : Reserved\n"
                                   "  000f0000-000fffff : System ROM\n"
                                   "00100000-7ffdbfff : System RAM\n"
                                   "  01000000-01ffffff : Kernel code\n"
                                   "  02000000-0260ffff : Kernel rodata\n"
                                   "  02800000-02a3ffff : Kernel data\n"
                                   "  02f00000-031fffff : Kernel bss\n"
                                   "  5f000000-7effffff : Crash kernel\n"
                                   "7ffdc000-7fffffff : Reserved\n"
                                   "  7ffdc000-7ffdcfff : ACPI Tables\n"
                                   "  7ffdd000-7ffddfff : ACPI Non-volatile Storage\n"
                                   "b0000000-bfffffff : PCI MMCONFIG 0000 [bus 00-ff]\n"
                                   "  b0000000-bfffffff : Reserved\n"
                                   "fed00000-fed003ff : HPET 0\n"
                                   "100000000-17fffffff : System RAM\n"
                                   "180000000-1bfffffff : Persistent Memory (legacy)\n"
                                   "1c0000000-1ffffffff : Persistent Memory\n";

std::vector<IomemEntry> iomem(const char* text) {
  auto e = parse_iomem(text);
  REQUIRE(e);
  return *e;
}

std::uint64_t le(const std::array<std::byte, 4096>& b, std::size_t off, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | std::to_integer<std::uint64_t>(b[off + i]);
  return v;
}

} // namespace

TEST_CASE("e820: crash ranges become RAM, firmware ranges are kept", "[e820]") {
  auto m = capture_e820(iomem(samples::kIomemLowHigh));
  REQUIRE(m);
  const std::vector<E820Entry> want = {
      {0x0, 0x1000, E820Type::reserved},         {0x1000, 0x9e000, E820Type::ram},
      {0x9f000, 0x61000, E820Type::reserved},    {0xab000000, 0x10000000, E820Type::ram},
      {0xbffda000, 0x26000, E820Type::reserved}, {0x42f000000, 0x10000000, E820Type::ram},
  };
  CHECK(*m == want);
}

TEST_CASE("e820: nested ACPI splits its Reserved parent, pmem types", "[e820]") {
  auto m = capture_e820(iomem(kIomemAcpi));
  REQUIRE(m);
  const std::vector<E820Entry> want = {
      {0x0, 0x1000, E820Type::reserved},
      {0x1000, 0x9ec00, E820Type::ram},
      {0x9fc00, 0x400, E820Type::reserved},
      {0xf0000, 0x10000, E820Type::reserved},
      {0x5f000000, 0x20000000, E820Type::ram},
      {0x7ffdc000, 0x1000, E820Type::acpi},
      {0x7ffdd000, 0x1000, E820Type::nvs},
      {0x7ffde000, 0x22000, E820Type::reserved},
      {0xb0000000, 0x10000000, E820Type::reserved},
      {0x180000000, 0x40000000, E820Type::pram},
      {0x1c0000000, 0x40000000, E820Type::pmem},
  };
  CHECK(*m == want);
}

TEST_CASE("e820: the elfcorehdr segment is cut out of the crash RAM", "[e820]") {
  auto m = capture_e820(iomem(samples::kIomemLowHigh), {{0x42f100000, 0x42f103fff}});
  REQUIRE(m);
  REQUIRE(m->size() == 7);
  CHECK((*m)[5] == E820Entry{0x42f000000, 0x100000, E820Type::ram});
  CHECK((*m)[6] == E820Entry{0x42f104000, 0xfefc000, E820Type::ram});
}

TEST_CASE("e820: refusals", "[e820]") {
  auto none = capture_e820(iomem(samples::kIomemNone));
  REQUIRE_FALSE(none);
  CHECK(none.error().category() == crashkit::ErrorCategory::data);
  CHECK_THAT(none.error().message(), Catch::Contains("no 'Crash kernel' range"));
  auto hidden = capture_e820(iomem(samples::kIomemHidden));
  REQUIRE_FALSE(hidden);
  CHECK_THAT(hidden.error().message(), Catch::Contains("hidden"));
}

TEST_CASE("e820: boot_params layout", "[e820]") {
  std::array<std::byte, 4096> bp;
  bp.fill(std::byte{0xaa});
  const std::vector<E820Entry> map = {
      {0x1000, 0x9e000, E820Type::ram},
      {0x42f000000, 0x10000000, E820Type::ram},
      {0x7ffdc000, 0x1000, E820Type::acpi},
  };
  REQUIRE(write_e820_table(bp, map));
  CHECK(le(bp, 0x1e8, 1) == 3);
  CHECK(le(bp, 0x1e7, 1) == 0xaa);
  CHECK(le(bp, 0x1e9, 1) == 0xaa);
  CHECK(le(bp, 0x2cf, 1) == 0xaa);
  CHECK(le(bp, 0x2d0, 8) == 0x1000);
  CHECK(le(bp, 0x2d8, 8) == 0x9e000);
  CHECK(le(bp, 0x2e0, 4) == 1);
  CHECK(le(bp, 0x2e4, 8) == 0x42f000000);
  CHECK(le(bp, 0x2ec, 8) == 0x10000000);
  CHECK(le(bp, 0x2f4, 4) == 1);
  CHECK(le(bp, 0x2f8, 8) == 0x7ffdc000);
  CHECK(le(bp, 0x300, 8) == 0x1000);
  CHECK(le(bp, 0x308, 4) == 3);
  CHECK(le(bp, 0x30c, 1) == 0xaa);

  std::vector<E820Entry> full(128, E820Entry{0x100000, 0x1000, E820Type::reserved});
  REQUIRE(write_e820_table(bp, full));
  CHECK(le(bp, 0x1e8, 1) == 128);
  CHECK(le(bp, 0x2d0 + 127 * 20 + 16, 4) == 2);
  CHECK(le(bp, 0xcd0, 1) == 0xaa);

  full.push_back(full.back());
  auto over = write_e820_table(bp, full);
  REQUIRE_FALSE(over);
  CHECK(over.error().category() == crashkit::ErrorCategory::unsupported);
  CHECK_THAT(over.error().message(), Catch::Contains("129 entries"));

  std::array<std::byte, 4095> small{};
  auto s = write_e820_table(small, map);
  REQUIRE_FALSE(s);
  CHECK(s.error().category() == crashkit::ErrorCategory::usage);
}
