#include <catch2/catch.hpp>

#include "crashkit/loader/reservation.hpp"
#include "samples.hpp"

using namespace crashkit::loader;

namespace {
Reservation reservation_of(const char* text) {
  auto entries = parse_iomem(text);
  REQUIRE(entries);
  return reservation_from_iomem(*entries);
}
} // namespace

TEST_CASE("iomem: nested entries keep depth, names with colons survive", "[iomem]") {
  auto e = parse_iomem(samples::kIomemLowHigh);
  REQUIRE(e);
  REQUIRE(e->size() == 18);
  CHECK((*e)[3].name == "PCI Bus 0000:00");
  CHECK((*e)[3].depth == 1);
  CHECK((*e)[14].name == "bochs-drm");
  CHECK((*e)[14].depth == 2);
  CHECK((*e)[16].start == 0x100000000ull);
  CHECK((*e)[16].end == 0x43fffffffull);
  CHECK((*e)[16].depth == 0);
}

TEST_CASE("iomem: low and high crash ranges", "[iomem]") {
  auto r = reservation_of(samples::kIomemLowHigh);
  REQUIRE(r.crash_ranges.size() == 2);
  CHECK(r.crash_ranges[0] == MemRange{0xab000000, 0xbaffffff});
  CHECK(r.crash_ranges[1] == MemRange{0x42f000000, 0x43effffff});
  CHECK(r.crash_bytes() == 256ull * 1024 * 1024 + 256ull * 1024 * 1024);
  REQUIRE(r.segment_range());
  CHECK(*r.segment_range() == r.crash_ranges[1]);
  CHECK(r.is_low(r.crash_ranges[0]));
  CHECK_FALSE(r.is_low(r.crash_ranges[1]));
  // "Kernel code" and friends are children, not RAM of their own.
  REQUIRE(r.system_ram.size() == 3);
  CHECK(r.system_ram[2] == MemRange{0x100000000, 0x43fffffff});
  CHECK_FALSE(r.addresses_hidden);
}

TEST_CASE("iomem: a single range below 4 GiB is not 'low'", "[iomem]") {
  auto r = reservation_of(samples::kIomemSingle);
  REQUIRE(r.crash_ranges.size() == 1);
  CHECK(r.crash_bytes() == 512ull * 1024 * 1024);
  CHECK_FALSE(r.is_low(r.crash_ranges[0]));
}

TEST_CASE("iomem: no reservation", "[iomem]") {
  auto r = reservation_of(samples::kIomemNone);
  CHECK(r.crash_ranges.empty());
  CHECK(r.crash_bytes() == 0);
  CHECK_FALSE(r.segment_range());
  CHECK(r.system_ram.size() == 2);
}

TEST_CASE("iomem: zeroed addresses are reported as hidden", "[iomem]") {
  auto r = reservation_of(samples::kIomemHidden);
  CHECK(r.addresses_hidden);
  CHECK(r.crash_ranges.size() == 1);
  CHECK_FALSE(reservation_of(samples::kIomemSingle).addresses_hidden);
}

TEST_CASE("iomem: malformed lines name their line number", "[iomem]") {
  auto check_bad = [](const char* text, const char* line) {
    auto e = parse_iomem(text);
    REQUIRE_FALSE(e);
    CHECK(e.error().category() == crashkit::ErrorCategory::data);
    CHECK_THAT(e.error().message(), Catch::Contains(line));
    CHECK_THAT(e.error().message(), Catch::Contains("/proc/iomem"));
  };
  check_bad("00000000-00000fff : Reserved\nzzzz-0fff : System RAM\n", "line 2");
  check_bad("00000000-00000fff : Reserved\n00001000-0009fbff System RAM\n", "line 2");
  check_bad("00000000-00000fff : Reserved\n   00001000-00001fff : odd\n", "line 2");
  check_bad("00000000-00000fff : Reserved\n    00001000-00001fff : skipped\n", "line 2");
  check_bad("00002000-00001fff : backwards\n", "line 1");
  CHECK(parse_iomem("")->empty());
}

TEST_CASE("sysfs files: lockdown, booleans, sizes", "[iomem]") {
  CHECK(parse_lockdown("[none] integrity confidentiality\n") == Lockdown::none);
  CHECK(parse_lockdown("none [integrity] confidentiality\n") == Lockdown::integrity);
  CHECK(parse_lockdown("none integrity [confidentiality]\n") == Lockdown::confidentiality);
  CHECK(parse_lockdown("none integrity\n") == Lockdown::unknown);
  CHECK(*parse_sysfs_bool("1\n"));
  CHECK_FALSE(*parse_sysfs_bool("0\n"));
  CHECK_FALSE(parse_sysfs_bool("yes\n"));
  CHECK(*parse_sysfs_u64("268435456\n") == 268435456u);
  CHECK_FALSE(parse_sysfs_u64("12a\n"));
  CHECK_FALSE(parse_sysfs_u64("\n"));
  CHECK(human_size(512ull << 20) == "512 MiB");
  CHECK(human_size(1536ull << 20) == "1.5 GiB");
  CHECK(human_size(100) == "100 bytes");
}

TEST_CASE("iomem: hot-plugged kmem RAM nested under its dax device counts", "[iomem]") {
  auto r = reservation_of("00100000-7ffdbfff : System RAM\n"
                          "  5f000000-7effffff : Crash kernel\n"
                          "180000000-27fffffff : Persistent Memory\n"
                          "  180000000-27fffffff : namespace0.0\n"
                          "    180000000-27fffffff : dax0.0\n"
                          "      180000000-27fffffff : System RAM (kmem)\n");
  REQUIRE(r.system_ram.size() == 2);
  CHECK(r.system_ram[1] == MemRange{0x180000000, 0x27fffffff});
}

TEST_CASE("iomem: crash ranges come out in address order", "[iomem]") {
  std::vector<IomemEntry> entries = {
      {0x42f000000, 0x43effffff, "Crash kernel", 1},
      {0xab000000, 0xbaffffff, "Crash kernel", 1},
  };
  auto r = reservation_from_iomem(entries);
  REQUIRE(r.crash_ranges.size() == 2);
  CHECK(r.crash_ranges[0].start == 0xab000000);
  CHECK(r.segment_range()->start == 0x42f000000);
}
