#include <catch2/catch.hpp>

#include "crashkit/bootcfg/bls_entry.hpp"
#include "setting.hpp"

using namespace crashkit;
using namespace crashkit::bootcfg;

using bootcfg_test::ck;

TEST_CASE("BLS entry version", "[bls]") {
  CHECK(bls_entry_version("title Fedora\nversion 6.8.5-301.fc40.x86_64\nlinux /vmlinuz-x\n",
                          "a.conf") == "6.8.5-301.fc40.x86_64");
  CHECK(bls_entry_version("title T\nlinux /boot/vmlinuz-6.1.0-18-amd64\n", "a.conf") ==
        "6.1.0-18-amd64");
  CHECK(bls_entry_version("title T\n", "abc-6.2.conf") == "abc-6.2");
}

TEST_CASE("BLS options edit", "[bls]") {
  std::string e = "title T\nversion 1\nlinux /vmlinuz-1\noptions root=UUID=x ro\tquiet\n"
                  "grub_users $grub_users\n";
  std::string set = edit_bls_entry(e, ck("256M"));
  CHECK(set == "title T\nversion 1\nlinux /vmlinuz-1\noptions root=UUID=x ro\tquiet "
               "crashkernel=256M\ngrub_users $grub_users\n");
  CHECK(edit_bls_entry(set, ck("256M")) == set);
  CHECK(edit_bls_entry(set, {}) == e);
  CHECK(edit_bls_entry(set, ck("512M")) ==
        "title T\nversion 1\nlinux /vmlinuz-1\noptions root=UUID=x ro\tquiet "
        "crashkernel=512M\ngrub_users $grub_users\n");
}

TEST_CASE("BLS entry with several options lines, CRLF, or none", "[bls]") {
  CHECK(edit_bls_entry("options a\noptions crashkernel=1M b crashkernel=2M,high\noptions c\n",
                       ck("256M")) == "options a\noptions crashkernel=256M b\noptions c\n");
  CHECK(edit_bls_entry("options a crashkernel=1M\noptions crashkernel=2M\n", ck("256M")) ==
        "options a crashkernel=256M\noptions \n");
  CHECK(edit_bls_entry("options a\r\n", ck("256M")) == "options a crashkernel=256M\r\n");
  CHECK(edit_bls_entry("title x\nlinux /v", ck("256M")) ==
        "title x\nlinux /v\noptions crashkernel=256M\n");
  CHECK(edit_bls_entry("title x\n", {}) == "title x\n");
  CHECK(bls_entry_options("options a\n  options  b c\n#options d\n") == "a b c");
}

TEST_CASE("BLS options line with no value gets a blank before the words", "[bls]") {
  // Found by fuzz_bootcfg: "options" alone became "optionscrashkernel=256M", which is no
  // options line, so a second edit appended another.
  const std::string once = edit_bls_entry("title x\noptions\n", ck("256M"));
  CHECK(once == "title x\noptions crashkernel=256M\n");
  CHECK(edit_bls_entry(once, ck("256M")) == once);
  CHECK(edit_bls_entry("options", ck("256M")) == "options crashkernel=256M");
}

TEST_CASE("BLS: a quote an earlier options line never closes gets the words before it", "[bls]") {
  // Found by fuzz_bootcfg: the kernel joins the options lines, so words on a later line sat
  // inside the open quote and crashkernel= never reached the kernel.
  const std::string e = "options a \"b c\noptions quiet\n";
  const std::string once = edit_bls_entry(e, ck("256M"));
  CHECK(once == "options a crashkernel=256M \"b c\noptions quiet\n");
  CHECK(*conf::parse_crashkernel_in_cmdline(bls_entry_options(once)) == ck("256M"));
  CHECK(edit_bls_entry(once, ck("256M")) == once);
  CHECK(edit_bls_entry(once, {}) == e);
  // A quote closed on the last line: the words go on a line of their own after it.
  const std::string closed = "options a \"b\noptions c\" d\n";
  const std::string twice = edit_bls_entry(closed, ck("256M"));
  CHECK(twice == closed + "options crashkernel=256M\n");
  CHECK(*conf::parse_crashkernel_in_cmdline(bls_entry_options(twice)) == ck("256M"));
  CHECK(edit_bls_entry(twice, ck("256M")) == twice);
}

TEST_CASE("BLS: after a bare -- on an earlier options line the words would be init's", "[bls]") {
  // Found by fuzz_bootcfg: the words went on the last line, after the "--" of an earlier one.
  const std::string e = "options ro -- single\noptions quiet\n";
  const std::string once = edit_bls_entry(e, ck("256M"));
  CHECK(once == "options ro crashkernel=256M -- single\noptions quiet\n");
  CHECK(*conf::parse_crashkernel_in_cmdline(bls_entry_options(once)) == ck("256M"));
  CHECK(edit_bls_entry(once, ck("256M")) == once);
  CHECK(edit_bls_entry(once, {}) == e);
  // A crashkernel= word after the "--" is init's: left alone, the kernel's goes before "--".
  const std::string init = "options ro -- x\noptions crashkernel=1M\n";
  CHECK(edit_bls_entry(init, ck("256M")) ==
        "options ro crashkernel=256M -- x\noptions crashkernel=1M\n");
}

TEST_CASE("BLS: a crashkernel= word that opens a quote leaves the entry as it is", "[bls]") {
  // Found by fuzz_bootcfg: replacing the word dropped its quote, so the lines after it were
  // read differently and a second edit changed the entry again.
  const std::string e = "options root=/dev/vda crashkernel=1\"x\noptions y\" quiet\n";
  CHECK(edit_bls_entry(e, ck("256M")) == e);
  CHECK(edit_bls_entry(e, {}) == e);
}
