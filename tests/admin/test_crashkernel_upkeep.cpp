#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crashkit/admin/crashkernel_upkeep.hpp"
#include "crashkit/conf/crashkernel.hpp"
#include "temp_root.hpp"

using namespace crashkit;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDefault = "1G-64G:160M,64G-1T:256M,1T-:512M";
constexpr const char* kDefaultWords = "crashkernel=1G-64G:160M,64G-1T:256M,1T-:512M";

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

conf::Config config_with(std::optional<std::string> value, bool auto_reset = true) {
  conf::Config c;
  c.auto_reset_crashkernel.value = auto_reset;
  if (value) {
    c.crashkernel.value.automatic = false;
    auto s = conf::parse_crashkernel(*value);
    REQUIRE(s);
    c.crashkernel.value.setting = *s;
  }
  return c;
}

struct System {
  admin::testing::TempRoot t{"crashkit-upkeep"};
  std::string root() const { return t.p.string(); }
  fs::path cmdline() const { return t.p / "etc/kernel/cmdline"; }
  void record(const std::string& value, admin::ChosenBy by) {
    REQUIRE(admin::write_crashkernel_record(root(), {value, by}));
  }
  std::optional<admin::CrashkernelRecord> recorded() {
    auto r = admin::read_crashkernel_record(root());
    REQUIRE(r);
    return *r;
  }
};

} // namespace

TEST_CASE("upkeep: a value crashkit never wrote is left alone, silently", "[admin][upkeep]") {
  System s;
  write(s.cmdline(), "root=/dev/sda1 crashkernel=256M\n");
  auto rep = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK_FALSE(rep.changed);
  CHECK(rep.message.empty());
  CHECK(read(s.cmdline()) == "root=/dev/sda1 crashkernel=256M\n");
  CHECK_FALSE(s.recorded());
}

TEST_CASE("upkeep: crashkit's own default follows the new default", "[admin][upkeep]") {
  System s;
  write(s.cmdline(), "root=/dev/sda1 crashkernel=128M quiet\n");
  s.record("crashkernel=128M", admin::ChosenBy::default_value);
  auto rep = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK(rep.changed);
  CHECK_THAT(rep.message, Contains("crashkernel= changed from crashkernel=128M to " +
                                   std::string(kDefaultWords) + " in /etc/kernel/cmdline") &&
                              Contains("next boot"));
  CHECK_THAT(rep.diff, Contains("-root=/dev/sda1 crashkernel=128M quiet"));
  CHECK(read(s.cmdline()) == "root=/dev/sda1 " + std::string(kDefaultWords) + " quiet\n");
  auto r = s.recorded();
  REQUIRE(r);
  CHECK(r->value == kDefaultWords);
  CHECK(r->chosen_by == admin::ChosenBy::default_value);

  // Run again: nothing left to do, nothing said.
  auto again = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK_FALSE(again.changed);
  CHECK(again.message.empty());
}

TEST_CASE("upkeep: a value chosen with --value is kept under `crashkernel auto`",
          "[admin][upkeep]") {
  System s;
  write(s.cmdline(), "crashkernel=96M\n");
  s.record("crashkernel=96M", admin::ChosenBy::option);
  auto rep = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK_FALSE(rep.changed);
  CHECK(rep.message.empty());
  CHECK(read(s.cmdline()) == "crashkernel=96M\n");

  // crashkit.conf naming a value is the administrator's later word: it is written.
  auto conf = admin::keep_crashkernel_current(config_with("112M"), s.root(), kDefault);
  CHECK(conf.changed);
  CHECK_THAT(conf.message, Contains("to crashkernel=112M") && Contains("(crashkit.conf)"));
  CHECK(read(s.cmdline()) == "crashkernel=112M\n");
  CHECK(s.recorded()->chosen_by == admin::ChosenBy::config);

  // The directive removed again: back to crashkit's default.
  auto back = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK(back.changed);
  CHECK(read(s.cmdline()) == std::string(kDefaultWords) + "\n");
}

TEST_CASE("upkeep: a hand-edited value is never overwritten, and the message says where",
          "[admin][upkeep]") {
  System s;
  write(s.cmdline(), "ro crashkernel=100M\n");
  s.record("crashkernel=96M", admin::ChosenBy::default_value);
  auto rep = admin::keep_crashkernel_current(config_with("120M"), s.root(), kDefault);
  CHECK_FALSE(rep.changed);
  CHECK_THAT(rep.message,
             Contains("auto_reset_crashkernel: /etc/kernel/cmdline holds crashkernel=100M, not "
                      "the crashkernel=96M crashkit wrote") &&
                 Contains("crashkit would write crashkernel=120M"));
  CHECK(read(s.cmdline()) == "ro crashkernel=100M\n");
  CHECK(s.recorded()->value == "crashkernel=96M");

  // Removed by hand everywhere: not put back.
  write(s.cmdline(), "ro\n");
  auto gone = admin::keep_crashkernel_current(config_with("120M"), s.root(), kDefault);
  CHECK_FALSE(gone.changed);
  CHECK_THAT(gone.message, Contains("removed by hand everywhere"));
  CHECK(read(s.cmdline()) == "ro\n");
}

TEST_CASE("upkeep: auto_reset_crashkernel no, and a removal by crashkit, change nothing",
          "[admin][upkeep]") {
  System s;
  write(s.cmdline(), "crashkernel=96M\n");
  s.record("crashkernel=96M", admin::ChosenBy::default_value);
  auto off = admin::keep_crashkernel_current(config_with("256M", false), s.root(), kDefault);
  CHECK_FALSE(off.changed);
  CHECK(off.message.empty());
  CHECK(read(s.cmdline()) == "crashkernel=96M\n");

  write(s.cmdline(), "ro\n");
  s.record("", admin::ChosenBy::option);
  auto removed = admin::keep_crashkernel_current(config_with("256M"), s.root(), kDefault);
  CHECK_FALSE(removed.changed);
  CHECK(read(s.cmdline()) == "ro\n");
}

TEST_CASE("upkeep: a kernel installed since gets the value, GRUB's line too", "[admin][upkeep]") {
  System s;
  const auto entries = s.t.p / "boot/loader/entries";
  write(entries / "m-6.1.conf", "title A\nversion 6.1\noptions ro crashkernel=96M\n");
  write(entries / "m-6.12.conf", "title B\nversion 6.12\noptions ro\n");
  write(s.t.p / "etc/default/grub", "GRUB_CMDLINE_LINUX=\"console=ttyS0 crashkernel=96M\"\n");
  s.record("crashkernel=96M", admin::ChosenBy::default_value);
  auto rep = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK(rep.changed);
  CHECK(read(entries / "m-6.1.conf") ==
        "title A\nversion 6.1\noptions ro " + std::string(kDefaultWords) + "\n");
  CHECK(read(entries / "m-6.12.conf") ==
        "title B\nversion 6.12\noptions ro " + std::string(kDefaultWords) + "\n");
  CHECK(read(s.t.p / "etc/default/grub") ==
        "GRUB_CMDLINE_LINUX=\"console=ttyS0 " + std::string(kDefaultWords) + "\"\n");
}

TEST_CASE("upkeep: a damaged record and a boot configuration that cannot be read are named",
          "[admin][upkeep]") {
  System s;
  write(s.t.p / "var/lib/crashkit/crashkernel.json", "{\"value\": 3}");
  auto bad = admin::read_crashkernel_record(s.root());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(),
             Contains("crashkernel.json") && Contains("not crashkit's record"));
  auto rep = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK_FALSE(rep.changed);
  CHECK_THAT(rep.message, Contains("auto_reset_crashkernel: ") && Contains("crashkernel.json"));

  write(s.t.p / "var/lib/crashkit/crashkernel.json",
        "{\"value\": \"crashkernel=96M\", \"chosen_by\": \"someone\"}");
  auto who = admin::read_crashkernel_record(s.root());
  REQUIRE_FALSE(who);
  CHECK_THAT(who.error().message(), Contains("chosen_by 'someone'"));

  s.record("crashkernel=96M", admin::ChosenBy::default_value);
  write(s.t.p / "etc/default/grub", "GRUB_CMDLINE_LINUX=\"$(cat /x)\"\n");
  auto grub = admin::keep_crashkernel_current(config_with(std::nullopt), s.root(), kDefault);
  CHECK_FALSE(grub.changed);
  CHECK_THAT(grub.message, Contains("/etc/default/grub:1"));
}

TEST_CASE("upkeep: the decision on a plan alone", "[admin][upkeep]") {
  bootcfg::ResetPlan plan;
  const std::string want = "crashkernel=160M";
  CHECK_THAT(admin::decide_upkeep(plan, std::nullopt, want, false).why, Contains("already"));
  plan.edits.push_back({"/x", "/etc/kernel/cmdline", "a", "b"});
  auto s96 = conf::parse_crashkernel("96M");
  REQUIRE(s96);
  plan.current.push_back({"/etc/kernel/cmdline", *s96});
  const admin::CrashkernelRecord mine{"crashkernel=96M", admin::ChosenBy::default_value};
  CHECK_FALSE(admin::decide_upkeep(plan, std::nullopt, want, false).apply);
  CHECK(admin::decide_upkeep(plan, mine, want, false).apply);
  plan.current.push_back({"/boot/loader/entries/x.conf", std::nullopt});
  auto unparsable = admin::decide_upkeep(plan, mine, want, false);
  CHECK_FALSE(unparsable.apply);
  CHECK(unparsable.tell);
  CHECK_THAT(unparsable.why, Contains("x.conf: its crashkernel= does not parse"));
}
