#include <catch2/catch.hpp>

#include <random>

#include "crashkit/conf/crashkernel.hpp"

using namespace crashkit::conf;

namespace {

constexpr std::uint64_t kM = std::uint64_t{1} << 20, kG = kM << 10, kT = kG << 10;

CrashkernelSetting parse_ok(const std::string& text) {
  INFO(text);
  auto r = parse_crashkernel(text);
  if (!r)
    FAIL(r.error().what());
  return *r;
}

CrashkernelReservation eval_ok(const std::string& text, std::uint64_t ram) {
  auto r = evaluate_crashkernel(parse_ok(text), ram);
  if (!r)
    FAIL(r.error().what());
  return *r;
}

} // namespace

TEST_CASE("crashkernel: every form parses and formats canonically", "[crashkernel]") {
  struct Row {
    const char* text;
    const char* canonical;
  };
  const Row rows[] = {
      {"256M", "crashkernel=256M"},
      {"crashkernel=256M", "crashkernel=256M"},
      {"crashkernel=268435456", "crashkernel=256M"},
      {"crashkernel=0x10000000", "crashkernel=256M"},
      {"crashkernel=1024m", "crashkernel=1G"},
      {"crashkernel=1000", "crashkernel=1000"},
      {"crashkernel=0", "crashkernel=0"},
      {"crashkernel=64M@16M", "crashkernel=64M@16M"},
      {"crashkernel=128M@0x1000000", "crashkernel=128M@16M"},
      {"crashkernel=512M-2G:64M,2G-:128M", "crashkernel=512M-2G:64M,2G-:128M"},
      {"crashkernel=512M-:192M", "crashkernel=512M-:192M"},
      {"crashkernel=0-:256M", "crashkernel=0-:256M"},
      {"crashkernel=2G-64G:256M,64G-:512M", "crashkernel=2G-64G:256M,64G-:512M"},
      {"crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M@16M",
       "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M@16M"},
      {"crashkernel=2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M",
       "crashkernel=2G-4G:320M,4G-32G:512M,32G-64G:1G,64G-128G:2G,128G-:4G"},
      {"crashkernel=256M,high", "crashkernel=256M,high"},
      {"crashkernel=72M,low", "crashkernel=72M,low"},
      {"crashkernel=0,low", "crashkernel=0,low"},
      {"crashkernel=1G,cma", "crashkernel=1G,cma"},
      {"crashkernel=256M,high crashkernel=72M,low", "crashkernel=256M,high crashkernel=72M,low"},
      {"  crashkernel=256M,high \t 72M,low  ", "crashkernel=256M,high crashkernel=72M,low"},
      {"crashkernel=128M crashkernel=256M", "crashkernel=128M crashkernel=256M"},
      {"4t-:1T", "crashkernel=4T-:1T"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto s = parse_ok(r.text);
    CHECK(format_crashkernel(s) == r.canonical);
    CHECK(parse_ok(format_crashkernel(s)) == s);
  }
}

TEST_CASE("crashkernel: parsed structure", "[crashkernel]") {
  auto s = parse_ok("crashkernel=512M-2G:64M,2G-:128M@16M crashkernel=1G,high 72M,low 2G,cma");
  REQUIRE(s.words.size() == 4);
  const auto& w = s.words[0];
  CHECK(w.kind == CrashkernelKind::plain);
  REQUIRE(w.ranges.size() == 2);
  CHECK(w.ranges[0] == CrashkernelRange{512 * kM, 2 * kG, 64 * kM});
  CHECK(w.ranges[1] == CrashkernelRange{2 * kG, std::nullopt, 128 * kM});
  CHECK(w.offset == 16 * kM);
  CHECK(s.words[1].kind == CrashkernelKind::high);
  CHECK(s.words[1].size == kG);
  CHECK(s.words[2].kind == CrashkernelKind::low);
  CHECK(s.words[2].size == 72 * kM);
  CHECK(s.words[3].kind == CrashkernelKind::cma);
  CHECK(format_crashkernel_value(s.words[0]) == "512M-2G:64M,2G-:128M@16M");
}

TEST_CASE("crashkernel: syntax errors name the exact character", "[crashkernel]") {
  struct Row {
    const char* text;
    std::size_t position; // 1-based, as printed
    const char* what;
  };
  const Row rows[] = {
      {"", 1, "no crashkernel value"},
      {"   ", 1, "no crashkernel value"},
      {"crashkernel=", 13, "expected a size"},
      {"crashkernel=M", 13, "expected a size"},
      {"crashkernel=256X", 16, "unexpected character 'X'"},
      {"crashkernel=256MB", 17, "unexpected character 'B'"},
      {"crashkernel=256M@", 18, "expected a size"},
      {"crashkernel=256M@16M@1M", 21, "unexpected character '@'"},
      {"crashkernel=256M,hig", 18, "expected 'high', 'low' or 'cma' after ','"},
      {"crashkernel=256M,high,low", 18, "expected 'high', 'low' or 'cma' after ','"},
      {"crashkernel=256M,", 18, "expected 'high', 'low' or 'cma' after ','"},
      {"crashkernel=256M,high@16M", 18, "expected 'high', 'low' or 'cma'"},
      {"crashkernel=,high", 13, "expected a size"},
      {"crashkernel=512M-2G", 20, "expected ':' and a size after the range"},
      {"crashkernel=512M-2G;64M", 20, "expected ':' after the range, found ';'"},
      {"crashkernel=512M-2G:", 21, "expected a size"},
      {"crashkernel=2G-512M:64M", 16, "range end must be above its start"},
      {"crashkernel=2G-2G:64M", 16, "range end must be above its start"},
      {"crashkernel=512M-2G:64M,", 25, "expected a size"},
      {"crashkernel=512M-2G:64M,2G", 27, "expected '-' after the range start"},
      {"crashkernel=512M-2G:64M,2G:128M", 27, "expected '-' after the range start, found ':'"},
      {"crashkernel=512M-2G:64M,high", 24, "',high' takes one size, not ranges"},
      {"crashkernel=512M-:64M,low", 22, "',low' takes one size, not ranges"},
      {"crashkernel=512M:64M", 17, "expected '-' between the range start and ':'"},
      {"crashkernel=512M-:64M@", 23, "expected a size"},
      {"crashkernel=512M-:64Mx", 22, "unexpected character 'x'"},
      {"crashkernel=0512M", 13, "leading zero"},
      {"crashkernel=256M crashkernel=1Q", 31, "unexpected character 'Q'"},
      {"crashkernel=256M high", 18, "expected a size"},
      {"crashkernel=99999999999999999999", 13, "does not fit in 64 bits"},
      {"crashkernel=20000000T", 13, "does not fit in 64 bits"},
      {"crashkernel:256M", 1, "expected a size"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    std::size_t pos = 12345;
    auto s = parse_crashkernel(r.text, &pos);
    REQUIRE_FALSE(s);
    CHECK(s.error().category() == crashkit::ErrorCategory::data);
    CHECK(pos + 1 == r.position);
    CHECK_THAT(s.error().what(),
               Catch::StartsWith("crashkernel \"" + std::string(r.text) + "\" at character " +
                                 std::to_string(r.position) + ": "));
    CHECK_THAT(s.error().what(), Catch::Contains(r.what));
  }
}

TEST_CASE("crashkernel: fuzz-like random strings parse or fail cleanly", "[crashkernel][fuzz]") {
  const std::string alphabet = "0123456789KMGT-:,@highlow x";
  const std::string prefixes[] = {"", "crashkernel=", "crashkernel=1G-", "crashkernel=256M,"};
  std::mt19937_64 rng(20261127);
  int ok = 0, bad = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = prefixes[rng() % 4];
    std::size_t len = rng() % 24;
    for (std::size_t j = 0; j < len; ++j)
      s += alphabet[rng() % alphabet.size()];
    std::size_t pos = SIZE_MAX;
    auto r = parse_crashkernel(s, &pos);
    if (!r) {
      ++bad;
      CHECK(pos <= s.size());
      CHECK_FALSE(r.error().what().empty());
      continue;
    }
    ++ok;
    std::string text = format_crashkernel(*r);
    auto again = parse_crashkernel(text);
    INFO(s << " -> " << text);
    REQUIRE(again);
    CHECK(*again == *r);
    CHECK(format_crashkernel(*again) == text);
    for (std::uint64_t ram : {std::uint64_t{0}, 1 * kG, 3 * kG + 5, 100 * kT}) {
      auto e = evaluate_crashkernel(*r, ram);
      if (e) {
        CHECK(e->size < std::max<std::uint64_t>(ram, 1));
      }
    }
  }
  // The generator must exercise both outcomes, or it tests nothing.
  CHECK(ok > 100);
  CHECK(bad > 100);
}

TEST_CASE("crashkernel: structured random valid settings round-trip", "[crashkernel][fuzz]") {
  std::mt19937_64 rng(42);
  const char* suffixes[] = {"", "K", "M", "G", "T"};
  auto size = [&] { return std::to_string(rng() % 5000) + suffixes[rng() % 5]; };
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    int words = 1 + static_cast<int>(rng() % 3);
    for (int w = 0; w < words; ++w) {
      text += w ? " crashkernel=" : "crashkernel=";
      switch (rng() % 4) {
      case 0:
        text += size();
        if (rng() % 2)
          text += "@" + size();
        break;
      case 1: {
        std::uint64_t start = rng() % 64;
        int n = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < n; ++k) {
          std::uint64_t end = start + 1 + rng() % 64;
          text += (k ? "," : "") + std::to_string(start) + "G-";
          if (k + 1 < n || rng() % 2)
            text += std::to_string(end) + "G";
          text += ":" + size();
          start = end;
        }
        if (rng() % 3 == 0)
          text += "@" + size();
        break;
      }
      case 2:
        text += size() + ",high";
        break;
      default:
        text += size() + (rng() % 2 ? ",low" : ",cma");
      }
    }
    INFO(text);
    auto s = parse_crashkernel(text);
    REQUIRE(s);
    auto again = parse_crashkernel(format_crashkernel(*s));
    REQUIRE(again);
    CHECK(*again == *s);
  }
}

TEST_CASE("crashkernel: RAM figure is rounded up to 128 MiB", "[crashkernel]") {
  CHECK(crashkernel_ram_figure(0) == 0);
  CHECK(crashkernel_ram_figure(1) == 128 * kM);
  CHECK(crashkernel_ram_figure(128 * kM) == 128 * kM);
  CHECK(crashkernel_ram_figure(2 * kG - 300 * kM) == 2 * kG - 256 * kM);
  // A "2 GiB" guest shows ~1.95 GiB of System RAM; it still counts as 2G.
  CHECK(crashkernel_ram_figure(2 * kG - 60 * kM) == 2 * kG);
  CHECK(crashkernel_ram_figure(UINT64_MAX) == UINT64_MAX);
}

TEST_CASE("crashkernel: range evaluation, start inclusive and end exclusive", "[crashkernel]") {
  const std::string fedora = "crashkernel=2G-64G:256M,64G-:512M";
  struct Row {
    std::uint64_t ram;
    std::uint64_t size;
    int range;
  };
  const Row rows[] = {
      {1 * kG, 0, -1},
      {2 * kG - 129 * kM, 0, -1},       // rounds to 1920M: below the first range
      {2 * kG - 100 * kM, 256 * kM, 0}, // rounds up to exactly 2G: start is inclusive
      {2 * kG, 256 * kM, 0},
      {64 * kG - 1, 512 * kM, 1}, // rounds to 64G: end is exclusive, so range 2
      {64 * kG - 128 * kM, 256 * kM, 0},
      {64 * kG, 512 * kM, 1},
      {4 * kT, 512 * kM, 1},
  };
  for (const auto& r : rows) {
    CAPTURE(r.ram);
    auto res = eval_ok(fedora, r.ram);
    CHECK(res.size == r.size);
    CHECK(res.range_index == r.range);
    CHECK(res.ram_figure == crashkernel_ram_figure(r.ram));
    CHECK_FALSE(res.high);
  }
  auto none = eval_ok(fedora, kG);
  REQUIRE(none.notes.size() == 1);
  CHECK(none.notes[0] == "no range of crashkernel=2G-64G:256M,64G-:512M matches 1G of RAM: "
                         "nothing is reserved");
}

TEST_CASE("crashkernel: first matching range wins, offset applies to ranges", "[crashkernel]") {
  auto r = eval_ok("crashkernel=1G-:128M,2G-:256M@16M", 4 * kG);
  CHECK(r.size == 128 * kM);
  CHECK(r.range_index == 0);
  CHECK(r.offset == 16 * kM);
  auto debian = eval_ok("crashkernel=512M-:192M", 2 * kG);
  CHECK(debian.size == 192 * kM);
  auto fixed = eval_ok("crashkernel=64M@16M", 2 * kG);
  CHECK(fixed.size == 64 * kM);
  CHECK(fixed.offset == 16 * kM);
  CHECK(fixed.range_index == -1);
}

TEST_CASE("crashkernel: the last word of each kind wins", "[crashkernel]") {
  auto r = eval_ok("crashkernel=128M crashkernel=256M", 4 * kG);
  CHECK(r.size == 256 * kM);
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "crashkernel=128M is overridden by the later crashkernel=256M");
}

TEST_CASE("crashkernel: ,high and ,low", "[crashkernel]") {
  auto r = eval_ok("crashkernel=256M,high crashkernel=72M,low", 16 * kG);
  CHECK(r.size == 256 * kM);
  CHECK(r.high);
  CHECK(r.low == 72 * kM);
  CHECK(r.notes.empty());

  auto dflt = eval_ok("crashkernel=256M,high", 16 * kG);
  CHECK(dflt.high);
  CHECK_FALSE(dflt.low.has_value()); // architecture default

  auto off = eval_ok("crashkernel=256M,high crashkernel=0,low", 16 * kG);
  CHECK(off.low == std::uint64_t{0});

  // A plain word makes the kernel ignore ,high and ,low.
  auto plain = eval_ok("crashkernel=512M crashkernel=1G,high crashkernel=72M,low", 16 * kG);
  CHECK(plain.size == 512 * kM);
  CHECK_FALSE(plain.high);
  CHECK_FALSE(plain.low.has_value());
  CHECK(plain.notes.size() == 2);

  auto lone_low = eval_ok("crashkernel=72M,low", 16 * kG);
  CHECK(lone_low.size == 0);
  CHECK_THAT(lone_low.notes[0], Catch::Contains("ignored without crashkernel=X,high"));
}

TEST_CASE("crashkernel: ,cma is extra and needs a main region", "[crashkernel]") {
  auto r = eval_ok("crashkernel=256M crashkernel=1G,cma", 16 * kG);
  CHECK(r.size == 256 * kM);
  CHECK(r.cma == kG);
  auto alone = eval_ok("crashkernel=1G,cma", 16 * kG);
  CHECK(alone.size == 0);
  CHECK(alone.cma == 0);
}

TEST_CASE("crashkernel: what the kernel rejects at boot", "[crashkernel]") {
  struct Row {
    const char* text;
    std::uint64_t ram;
    const char* message;
  };
  const Row rows[] = {
      {"crashkernel=4G", 4 * kG, "crashkernel=4G: size 4G is not below the RAM size 4G"},
      {"crashkernel=8G,high", 4 * kG, "crashkernel=8G,high: size 8G is not below the RAM size"},
      {"crashkernel=0,high", 4 * kG, "a zero ,high size is rejected by the kernel"},
      // The kernel checks every range's size up to the matching one, against rounded RAM.
      {"crashkernel=0-1G:2G,1G-:128M", kG, "size 2G of range 1 is not below the 1G of RAM"},
      {"crashkernel=0-:4G", 4 * kG - 1, "size 4G of range 1 is not below the 4G of RAM"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto res = evaluate_crashkernel(parse_ok(r.text), r.ram);
    REQUIRE_FALSE(res);
    CHECK_THAT(res.error().what(), Catch::Contains(r.message));
  }
  // A too-big size in a range after the matching one is never looked at.
  CHECK(eval_ok("crashkernel=0-2G:128M,2G-:8G", kG).size == 128 * kM);
  // Zero size: nothing reserved, not an error.
  auto zero = eval_ok("crashkernel=0", 4 * kG);
  CHECK(zero.size == 0);
  CHECK_FALSE(zero.notes.empty());
}

TEST_CASE("crashkernel: the words of a whole command line", "[crashkernel][cmdline]") {
  auto s = parse_crashkernel_in_cmdline(
      "BOOT_IMAGE=/vmlinuz-6.1.0 root=UUID=ab-cd ro quiet crashkernel=256M,high "
      "acpi_rsdp=\"x y\" crashkernel=72M,low -- crashkernel=1G init-arg");
  REQUIRE(s);
  CHECK(format_crashkernel(*s) == "crashkernel=256M,high crashkernel=72M,low");
  auto none = parse_crashkernel_in_cmdline("root=/dev/vda1 ro");
  REQUIRE(none);
  CHECK(none->words.empty());
  std::size_t pos = 0;
  auto bad = parse_crashkernel_in_cmdline("ro crashkernel=512M-2G;64M quiet", &pos);
  REQUIRE_FALSE(bad);
  CHECK(pos == 22);
  CHECK_THAT(bad.error().what(), Catch::Contains("at character 23: expected ':'"));
  // Only whole words count: "nocrashkernel=1" and a quoted value are other parameters.
  auto other = parse_crashkernel_in_cmdline("nocrashkernel=1 foo=\"crashkernel=1G\"");
  REQUIRE(other);
  CHECK(other->words.empty());
}

TEST_CASE("crashkernel: replacing the words changes nothing else", "[crashkernel][cmdline]") {
  auto set = [](const char* v) {
    auto s = parse_crashkernel(v);
    REQUIRE(s);
    return *s;
  };
  struct Row {
    const char* before;
    const char* value; // "" removes
    const char* after;
  };
  const Row rows[] = {
      {"quiet splash", "512M-:192M", "quiet splash crashkernel=512M-:192M"},
      {"", "256M", "crashkernel=256M"},
      {"   ", "256M", "crashkernel=256M   "},
      {"ro  quiet\t", "256M", "ro  quiet crashkernel=256M\t"},
      {"ro crashkernel=auto quiet", "2G-64G:256M,64G-:512M",
       "ro crashkernel=2G-64G:256M,64G-:512M quiet"},
      {"ro  crashkernel=1G   quiet", "256M", "ro  crashkernel=256M   quiet"},
      {"crashkernel=1G quiet crashkernel=2G,high", "512M", "crashkernel=512M quiet"},
      {"ro crashkernel=256M,high crashkernel=72M,low", "256M,high 72M,low",
       "ro crashkernel=256M,high crashkernel=72M,low"},
      {"ro crashkernel=1G quiet", "", "ro quiet"},
      {"crashkernel=1G quiet", "", "quiet"},
      {"crashkernel=1G crashkernel=2G quiet", "", "quiet"},
      {"quiet crashkernel=1G", "", "quiet"},
      {"ro -- single", "128M", "ro crashkernel=128M -- single"},
      {"-- single", "128M", "crashkernel=128M -- single"},
      {"ro -- crashkernel=1G", "128M", "ro crashkernel=128M -- crashkernel=1G"},
      {"ro acpi=\"a crashkernel=1G\" x", "128M", "ro acpi=\"a crashkernel=1G\" x crashkernel=128M"},
      // An unterminated quote runs to the end of the line (the kernel's next_arg()): words
      // appended after it would be inside it, so they go before it (found by fuzz_crashkernel).
      {"ro x=\"a b", "128M", "ro crashkernel=128M x=\"a b"},
      {"x\" crashkernel=1G", "256M,high 72M,low",
       "crashkernel=256M,high crashkernel=72M,low x\" crashkernel=1G"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.before, r.value);
    CrashkernelSetting s = *r.value ? set(r.value) : CrashkernelSetting{};
    std::string out = replace_crashkernel_in_cmdline(r.before, s);
    CHECK(out == r.after);
    // Idempotent, and the words read back.
    CHECK(replace_crashkernel_in_cmdline(out, s) == out);
    auto back = parse_crashkernel_in_cmdline(out);
    REQUIRE(back);
    CHECK(*back == s);
  }
}
