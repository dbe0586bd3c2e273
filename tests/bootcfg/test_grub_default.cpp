#include <catch2/catch.hpp>

#include "crashkit/bootcfg/grub_default.hpp"
#include "setting.hpp"

using namespace crashkit;
using namespace crashkit::bootcfg;

using bootcfg_test::ck;

namespace {

std::string edited(std::string_view text, std::string_view value = "256M") {
  auto r = edit_grub_default(text, value == "off" ? conf::CrashkernelSetting{} : ck(value),
                             "/etc/default/grub");
  INFO(text);
  REQUIRE(r);
  return r->text;
}

std::string refusal(std::string_view text) {
  auto r = edit_grub_default(text, ck("256M"), "/etc/default/grub");
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::unsupported);
  return r.error().message();
}

} // namespace

TEST_CASE("GRUB_CMDLINE_LINUX: each quoting keeps its bytes", "[grub]") {
  using P = std::pair<std::string, std::string>;
  auto [in, out] = GENERATE(values<P>({
      {"GRUB_CMDLINE_LINUX=\"\"\n", "GRUB_CMDLINE_LINUX=\"crashkernel=256M\"\n"},
      {"GRUB_CMDLINE_LINUX=''\n", "GRUB_CMDLINE_LINUX='crashkernel=256M'\n"},
      {"GRUB_CMDLINE_LINUX=\n", "GRUB_CMDLINE_LINUX=crashkernel=256M\n"},
      {"GRUB_CMDLINE_LINUX=quiet\n", "GRUB_CMDLINE_LINUX=\"quiet crashkernel=256M\"\n"},
      {"GRUB_CMDLINE_LINUX=\"quiet\"\n", "GRUB_CMDLINE_LINUX=\"quiet crashkernel=256M\"\n"},
      {"GRUB_CMDLINE_LINUX='quiet splash'\n",
       "GRUB_CMDLINE_LINUX='quiet splash crashkernel=256M'\n"},
      {"GRUB_CMDLINE_LINUX=\"a crashkernel=128M b\"\n",
       "GRUB_CMDLINE_LINUX=\"a crashkernel=256M b\"\n"},
      {"GRUB_CMDLINE_LINUX=\"crashkernel=1G-4G:192M,4G-:256M  rd.lvm.lv=r/root\" # keep\n",
       "GRUB_CMDLINE_LINUX=\"crashkernel=256M  rd.lvm.lv=r/root\" # keep\n"},
      // escaped content elsewhere in the value stays as written
      {"GRUB_CMDLINE_LINUX=\"dyndbg=\\\"file x +p\\\" \\$ crashkernel=64M\"\n",
       "GRUB_CMDLINE_LINUX=\"dyndbg=\\\"file x +p\\\" \\$ crashkernel=256M\"\n"},
      {"GRUB_CMDLINE_LINUX=\"a\"' b'\n", "GRUB_CMDLINE_LINUX=\"a\"' b crashkernel=256M'\n"},
      {"  export GRUB_CMDLINE_LINUX=\"x\"\n",
       "  export GRUB_CMDLINE_LINUX=\"x crashkernel=256M\"\n"},
      // a value continued on the next line
      {"GRUB_CMDLINE_LINUX=\"a \\\nb\"\nX=1\n",
       "GRUB_CMDLINE_LINUX=\"a \\\nb crashkernel=256M\"\nX=1\n"},
      {"GRUB_CMDLINE_LINUX=\"a\nb\"\n", "GRUB_CMDLINE_LINUX=\"a\nb crashkernel=256M\"\n"},
      // no newline at the end of the file
      {"GRUB_CMDLINE_LINUX=\"a\"", "GRUB_CMDLINE_LINUX=\"a crashkernel=256M\""},
  }));
  CHECK(edited(in) == out);
  CHECK(edited(out) == out); // idempotent
}

TEST_CASE("GRUB_CMDLINE_LINUX_DEFAULT and other lines are left alone", "[grub]") {
  std::string text = "# GRUB_CMDLINE_LINUX=\"commented\"\n"
                     "GRUB_DEFAULT=0\n"
                     "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
                     "GRUB_CMDLINE_LINUX=\"\"\n"
                     "GRUB_TERMINAL=console # $(not ours)\n";
  std::string want = text;
  want.replace(want.find("LINUX=\"\"") + 6, 2, "\"crashkernel=256M\"");
  auto r = edit_grub_default(text, ck("256M"), "/etc/default/grub");
  REQUIRE(r);
  CHECK(r->text == want);
  CHECK(r->notes.empty());
  CHECK_FALSE(r->blscfg);
}

TEST_CASE("removal takes only the crashkernel words", "[grub]") {
  CHECK(edited("GRUB_CMDLINE_LINUX=\"quiet crashkernel=256M,high crashkernel=72M,low x\"\n",
               "off") == "GRUB_CMDLINE_LINUX=\"quiet x\"\n");
  CHECK(edited("GRUB_CMDLINE_LINUX=\"crashkernel=256M\"\n", "off") == "GRUB_CMDLINE_LINUX=\"\"\n");
  CHECK(edited("A=1\n", "off") == "A=1\n");
}

TEST_CASE("a value equal to the wanted one is not rewritten", "[grub]") {
  // 1024M is 1G: same setting, the administrator's spelling stays
  CHECK(edited("GRUB_CMDLINE_LINUX=\"crashkernel=1024M\"\n", "1G") ==
        "GRUB_CMDLINE_LINUX=\"crashkernel=1024M\"\n");
}

TEST_CASE("several assignments are all set", "[grub]") {
  CHECK(edited("GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b crashkernel=1M\"\n") ==
        "GRUB_CMDLINE_LINUX=\"a crashkernel=256M\"\nGRUB_CMDLINE_LINUX=\"b crashkernel=256M\"\n");
}

TEST_CASE("a missing GRUB_CMDLINE_LINUX is added", "[grub]") {
  auto r = edit_grub_default("GRUB_TIMEOUT=5", ck("256M"), "/etc/default/grub");
  REQUIRE(r);
  CHECK(r->text == "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"crashkernel=256M\"\n");
  REQUIRE(r->notes.size() == 1);
  CHECK(r->notes[0] == "/etc/default/grub: had no GRUB_CMDLINE_LINUX=; added one");
}

TEST_CASE("crashkernel in GRUB_CMDLINE_LINUX_DEFAULT is reported, blscfg detected", "[grub]") {
  auto r = edit_grub_default("GRUB_ENABLE_BLSCFG=true\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet "
                             "crashkernel=384M-:128M\"\nGRUB_CMDLINE_LINUX=\"\"\n",
                             ck("256M"), "/etc/default/grub");
  REQUIRE(r);
  CHECK(r->blscfg);
  REQUIRE(r->notes.size() == 1);
  CHECK_THAT(r->notes[0], Catch::StartsWith("/etc/default/grub:2: GRUB_CMDLINE_LINUX_DEFAULT "
                                            "also has crashkernel=; it comes after"));
  CHECK(r->text.find("LINUX_DEFAULT=\"quiet crashkernel=384M-:128M\"") != std::string::npos);
}

TEST_CASE("values that need a shell are refused with FILE:LINE", "[grub]") {
  // Every refusal reads "/etc/default/grub:LINE: GRUB_CMDLINE_LINUX: WHY; edit it by hand".
  struct Row {
    const char* text;
    int line;
    const char* why;
  };
  const Row rows[] = {
      {"A=1\nGRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX quiet\"\n", 2,
       "variable expansion or command substitution ($) in the value"},
      {"GRUB_CMDLINE_LINUX=\"$(cat /etc/x)\"\n", 1,
       "variable expansion or command substitution ($) in the value"},
      {"\n\nGRUB_CMDLINE_LINUX=`cat x`\n", 3, "command substitution (`) in the value"},
      {"GRUB_CMDLINE_LINUX=$X\n", 1, "variable expansion or command substitution ($) in the value"},
      {"GRUB_CMDLINE_LINUX=\"quiet\n", 1, "unterminated double quote"},
      {"GRUB_CMDLINE_LINUX='quiet\n", 1, "unterminated single quote"},
      {"GRUB_CMDLINE_LINUX=\"a\"; echo hi\n", 1,
       "unexpected text after the value (only a comment may follow it)"},
      {"GRUB_CMDLINE_LINUX=quiet splash\n", 1,
       "unexpected text after the value (only a comment may follow it)"},
      {"GRUB_CMDLINE_LINUX+=\" crashkernel=1M\"\n", 1, "appending assignment (+=)"},
      {"GRUB_CMDLINE_LINUX=~/x\n", 1, "tilde expansion (~) in the value"},
      {"GRUB_CMDLINE_LINUX=\"crashkernel=1M\"' crashkernel=2M'\n", 1,
       "the crashkernel= words to change lie in differently quoted parts of the value"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    CHECK(refusal(r.text) == "/etc/default/grub:" + std::to_string(r.line) +
                                 ": GRUB_CMDLINE_LINUX: " + r.why + "; edit it by hand");
  }
}

TEST_CASE("escaped single quote inside a single-quoted value", "[grub]") {
  // 'it'\''s' is three segments; the words go into the last one
  CHECK(edited("GRUB_CMDLINE_LINUX='a'\\''b'\n") ==
        "GRUB_CMDLINE_LINUX='a'\\''b crashkernel=256M'\n");
}

TEST_CASE("crashkernel in an expanding GRUB_CMDLINE_LINUX_DEFAULT is still reported", "[grub]") {
  auto r = edit_grub_default(
      "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=512M-:192M\"\n",
      ck("256M"), "/etc/default/grub");
  REQUIRE(r);
  REQUIRE(r->notes.size() == 2); // the note, then "added one"
  CHECK_THAT(r->notes[0], Catch::StartsWith("/etc/default/grub:1: GRUB_CMDLINE_LINUX_DEFAULT"));
}

// Found by fuzz_bootcfg: a quoted value spanning lines holds text that looks like an
// assignment; the shell does not assign it, so neither the edit nor a second edit may touch it.
TEST_CASE("a quoted value spanning lines hides what looks like an assignment", "[grub]") {
  const std::string text = "GRUB_DISTRIBUTOR=\"Debian\nGRUB_CMDLINE_LINUX=crashkernel=1G\"\n"
                           "GRUB_CMDLINE_LINUX_DEFAULT='quiet\nGRUB_CMDLINE_LINUX=x'\n"
                           "# it's a comment\n"
                           "GRUB_CMDLINE_LINUX=\"ro\"\n";
  const std::string once = edited(text);
  CHECK(once == "GRUB_DISTRIBUTOR=\"Debian\nGRUB_CMDLINE_LINUX=crashkernel=1G\"\n"
                "GRUB_CMDLINE_LINUX_DEFAULT='quiet\nGRUB_CMDLINE_LINUX=x'\n"
                "# it's a comment\n"
                "GRUB_CMDLINE_LINUX=\"ro crashkernel=256M\"\n");
  CHECK(edited(once) == once);
}

TEST_CASE("a quote that never closes is refused with FILE:LINE", "[grub]") {
  // The crashing input, reduced: where the next line starts is unknown.
  CHECK(refusal("GRUB_CMDLINE_LINUX_DEFAULT=p\"quiet\"x\"\n"
                "GRUB_CMDLINE_LINUX=\"crashkernel=1G' # note rhgb\"\n") ==
        "/etc/default/grub:2: unterminated single quote; edit it by hand");
  CHECK(refusal("GRUB_DISTRIBUTOR=\"Debian\nGRUB_CMDLINE_LINUX=\"quiet\"\n") ==
        "/etc/default/grub:2: unterminated double quote; edit it by hand");
}

TEST_CASE("an assignment appended after a trailing backslash is not joined to it", "[grub]") {
  // Found by fuzz_bootcfg: "c\" then the new line read as one command, so a second edit
  // appended the assignment again.
  const std::string once = edited("c\\", "128M@16M");
  CHECK(once == "c\\\n\nGRUB_CMDLINE_LINUX=\"crashkernel=128M@16M\"\n");
  CHECK(edited(once, "128M@16M") == once);
  CHECK(edited("a \\\\\n") == "a \\\\\nGRUB_CMDLINE_LINUX=\"crashkernel=256M\"\n");
}
