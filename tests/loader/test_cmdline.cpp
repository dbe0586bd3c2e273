#include <algorithm>
#include <catch2/catch.hpp>

#include "crashkit/loader/cmdline.hpp"
#include "crashkit/loader/kexec_loader.hpp"
#include "crashkit/testing/fake_kexec_sys.hpp"
#include "samples.hpp"

using namespace crashkit::loader;
using Catch::Contains;

namespace {
std::size_t count_token(const std::string& line, const std::string& tok) {
  auto t = tokenize_cmdline(line);
  return static_cast<std::size_t>(std::count(t.begin(), t.end(), tok));
}
std::size_t count_name(const std::string& line, const std::string& name) {
  std::size_t n = 0;
  for (const auto& t : tokenize_cmdline(line))
    if (param_name(t) == name)
      ++n;
  return n;
}
} // namespace

TEST_CASE("cmdline: tokenizer honours double quotes", "[cmdline]") {
  auto t = tokenize_cmdline("  root=/dev/sda1 foo=\"a b  c\" \"bar=x y\"\tquiet\n");
  REQUIRE(t.size() == 4);
  CHECK(t[0] == "root=/dev/sda1");
  CHECK(t[1] == "foo=\"a b  c\"");
  CHECK(t[2] == "\"bar=x y\"");
  CHECK(t[3] == "quiet");
  CHECK(param_name(t[1]) == "foo");
  CHECK(param_name(t[2]) == "bar");
  CHECK(join_cmdline(t) == "root=/dev/sda1 foo=\"a b  c\" \"bar=x y\" quiet");
  // Unterminated quote: the rest is one token, as in the kernel's next_arg().
  auto u = tokenize_cmdline("a=\"x y z");
  REQUIRE(u.size() == 1);
  CHECK(u[0] == "a=\"x y z");
  CHECK(tokenize_cmdline("   \n").empty());
}

TEST_CASE("cmdline: names fold dashes like the kernel", "[cmdline]") {
  CHECK(param_name("default-hugepagesz=1G") == "default_hugepagesz");
  CHECK(param_name("quiet") == "quiet");
  CHECK(param_name("--") == "");
}

TEST_CASE("cmdline: panic defaults drop what must not reach a capture kernel", "[cmdline]") {
  auto out = filter_cmdline(samples::kCmdline, default_panic_filter());
  CHECK(count_name(out, "crashkernel") == 0);
  CHECK(count_name(out, "hugepages") == 0);
  CHECK(count_name(out, "quiet") == 0);
  CHECK(count_name(out, "splash") == 0);
  CHECK(count_token(out, "root=UUID=0a1b") == 1);
  CHECK(count_token(out, "console=tty0") == 1);
  CHECK(count_token(out, "console=ttyS0,115200") == 1);
  CHECK(count_token(out, "reset_devices") == 1);
  CHECK(count_token(out, "irqpoll") == 1);
  // The sample's nr_cpus=4 is replaced, not duplicated (not on archs that use maxcpus).
#if defined(__x86_64__) || defined(__aarch64__)
  CHECK(count_name(out, "nr_cpus") == 1);
  CHECK(count_token(out, "nr_cpus=1") == 1);
#endif
  CHECK(out.find('\n') == std::string::npos);
}

TEST_CASE("cmdline: duplicates and every crashkernel= form are removed", "[cmdline]") {
  CmdlineFilter f{{"crashkernel", "hugepagesz", "default_hugepagesz"}, {"irqpoll", "nr_cpus=1"}};
  auto out = filter_cmdline(
      "crashkernel=256M crashkernel=512M,high crashkernel=128M,low ro irqpoll irqpoll "
      "hugepagesz=1G hugepagesz=2M default-hugepagesz=1G nr_cpus=8 nr_cpus=2",
      f);
  CHECK(out == "ro irqpoll nr_cpus=1");
}

TEST_CASE("cmdline: both lists can be overridden", "[cmdline]") {
  CmdlineFilter f{{"console"}, {"foo=\"a b\"", "foo=2"}};
  auto out = filter_cmdline("crashkernel=512M console=tty0 quiet foo=1", f);
  // crashkernel= and quiet stay because the remove list was replaced; the last foo wins.
  CHECK(out == "crashkernel=512M quiet foo=2");
  CHECK(filter_cmdline("a b", CmdlineFilter{}) == "a b");
}

TEST_CASE("cmdline: init arguments after -- are left alone", "[cmdline]") {
  CmdlineFilter f{{"quiet"}, {"irqpoll"}};
  CHECK(filter_cmdline("ro quiet -- quiet single", f) == "ro irqpoll -- quiet single");
  CHECK(append_cmdline("ro -- single", "x=1") == "ro x=1 -- single");
  CHECK(append_cmdline("ro", "x=1 -- emergency") == "ro x=1 -- emergency");
}

TEST_CASE("cmdline: --append keeps repeated names, skips exact duplicates", "[cmdline]") {
  CHECK(append_cmdline("console=tty0 ro", "console=ttyS0 ro") == "console=tty0 ro console=ttyS0");
  CHECK(append_cmdline("", "") == "");
  CHECK(append_cmdline("", "a \"b c\"") == "a \"b c\"");
}

TEST_CASE("cmdline: build from /proc/cmdline per slot", "[cmdline]") {
  FakeKexecSys sys;
  sys.files["/proc/cmdline"] = samples::kCmdline;

  CmdlineRequest reboot{Slot::reboot, std::nullopt, true, std::nullopt, std::nullopt, ""};
  auto r = build_cmdline(sys, reboot);
  REQUIRE(r);
  // A fast reboot gets the same line, crashkernel= included.
  std::string expected = samples::kCmdline;
  expected.pop_back();
  CHECK(*r == expected);

  CmdlineRequest panic{Slot::panic, std::nullopt, true, std::nullopt, std::nullopt, "x=1"};
  auto p = build_cmdline(sys, panic);
  REQUIRE(p);
  CHECK(count_name(*p, "crashkernel") == 0);
  CHECK(tokenize_cmdline(*p).back() == "x=1");

  panic.remove = std::vector<std::string>{};
  panic.capture_params = std::vector<std::string>{"only=1"};
  auto o = build_cmdline(sys, panic);
  REQUIRE(o);
  CHECK(*o == expected + " only=1 x=1");

  CmdlineRequest given{Slot::panic, std::string("a b"), false, std::nullopt, std::nullopt, ""};
  CHECK(*build_cmdline(sys, given) == "a b");

  sys.files.erase("/proc/cmdline");
  auto missing = build_cmdline(sys, reboot);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Contains("--reuse-cmdline"));
  CHECK_THAT(missing.error().message(), Contains("/proc/cmdline"));
}
