#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "bzimage_sample.hpp"
#include "crashkit/loader/kexec_loader.hpp"
#include "crashkit/loader/system_state.hpp"
#include "crashkit/testing/fake_kexec_sys.hpp"
#include "samples.hpp"

using namespace crashkit::loader;
using Catch::Contains;
using crashkit::ErrorCategory;

namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

FakeKexecSys machine(bool crash_loaded = false, std::uint64_t crash_size = 512 * kMiB) {
  FakeKexecSys sys;
  sys.set_kexec_state(crash_loaded, false, crash_size);
  sys.files["/proc/iomem"] = samples::kIomemSingle;
  sys.images["/boot/vmlinuz"] = {12 * kMiB, samples::synthetic_bzimage(), std::nullopt};
  sys.images["/boot/initrd.img"] = {60 * kMiB, {}, std::nullopt};
  return sys;
}

LoadRequest panic_req(const char* cmdline = "ro irqpoll") {
  LoadRequest r;
  r.slot = Slot::panic;
  r.kernel = "/boot/vmlinuz";
  r.initrd = "/boot/initrd.img";
  r.cmdline = cmdline;
  return r;
}

int status_of(FakeKexecSys& sys) {
  auto s = probe_system(sys);
  REQUIRE(s);
  return status_exit_code(*s);
}

} // namespace

TEST_CASE("load: panic with initrd passes both fds, ON_CRASH and the NUL", "[load]") {
  auto sys = machine();
  REQUIRE(load(sys, panic_req("ro irqpoll")));
  REQUIRE(sys.file_load_calls.size() == 1);
  const auto& c = sys.file_load_calls[0];
  CHECK(c.flags == kKexecFileOnCrash);
  CHECK(c.kernel_fd == sys.opened_fds.at("/boot/vmlinuz"));
  CHECK(c.initrd_fd == sys.opened_fds.at("/boot/initrd.img"));
  CHECK(c.kernel_fd != c.initrd_fd);
  CHECK(c.cmdline_len == std::strlen("ro irqpoll") + 1);
  CHECK(c.cmdline_bytes == std::string("ro irqpoll", 11));
  CHECK(c.cmdline_bytes.back() == '\0');
}

TEST_CASE("load: no initrd sets NO_INITRAMFS and fd -1, reboot slot has no ON_CRASH", "[load]") {
  auto sys = machine();
  auto r = panic_req("");
  r.initrd.reset();
  REQUIRE(load(sys, r));
  r.slot = Slot::reboot;
  REQUIRE(load(sys, r));
  REQUIRE(sys.file_load_calls.size() == 2);
  CHECK(sys.file_load_calls[0].flags == (kKexecFileOnCrash | kKexecFileNoInitramfs));
  CHECK(sys.file_load_calls[0].initrd_fd == -1);
  // An empty command line is still one NUL byte, as kexec-tools passes it.
  CHECK(sys.file_load_calls[0].cmdline_len == 1);
  CHECK_FALSE(sys.file_load_calls[0].cmdline_ptr_null);
  CHECK(sys.file_load_calls[1].flags == kKexecFileNoInitramfs);
  CHECK(sys.files["/sys/kernel/kexec_loaded"] == "1\n");
}

TEST_CASE("unload: UNLOAD flags, no fds, no command line", "[load]") {
  auto sys = machine(true);
  REQUIRE(unload(sys, Slot::panic));
  REQUIRE(unload(sys, Slot::reboot));
  REQUIRE(sys.file_load_calls.size() == 2);
  for (const auto& c : sys.file_load_calls) {
    CHECK(c.kernel_fd == -1);
    CHECK(c.initrd_fd == -1);
    CHECK(c.cmdline_len == 0);
    CHECK(c.cmdline_ptr_null);
  }
  CHECK(sys.file_load_calls[0].flags == (kKexecFileUnload | kKexecFileOnCrash));
  CHECK(sys.file_load_calls[1].flags == kKexecFileUnload);
}

TEST_CASE("unload: a refusal carries errno and advice", "[load]") {
  auto sys = machine(true);
  sys.cap_sys_boot = false;
  sys.file_load_errno = EPERM;
  auto st = unload(sys, Slot::panic);
  REQUIRE_FALSE(st);
  CHECK(st.error().sys_errno() == EPERM);
  CHECK_THAT(st.error().message(), Contains("unload --panic"));
  CHECK_THAT(st.error().message(), Contains("CAP_SYS_BOOT"));
}

TEST_CASE("load: no reservation is refused before the kernel is asked", "[load]") {
  auto sys = machine(false, 0);
  sys.files["/proc/iomem"] = samples::kIomemNone;
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK(sys.file_load_calls.empty());
  CHECK(st.error().sys_errno() == EADDRNOTAVAIL);
  CHECK_THAT(st.error().message(), Contains("crashkernel="));
}

TEST_CASE("load: images larger than the reservation keep the armed kernel", "[load]") {
  auto sys = machine(true, 64 * kMiB);
  sys.files["/proc/iomem"] = "00100000-7ffdbfff : System RAM\n  7b000000-7effffff : Crash kernel\n";
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK(sys.file_load_calls.empty());
  CHECK_THAT(st.error().message(), Contains("kernel 12 MiB + initrd 60 MiB"));
  CHECK_THAT(st.error().message(), Contains("64 MiB"));
  CHECK_THAT(st.error().message(), Contains("armed panic kernel is kept"));
  CHECK(status_of(sys) == kStatusArmed);
}

TEST_CASE("load: a failed reload reports the empty crash slot", "[load]") {
  auto sys = machine(true);
  sys.file_load_errno = ENOEXEC;
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  REQUIRE(sys.file_load_calls.size() == 1);
  CHECK(st.error().sys_errno() == ENOEXEC);
  CHECK(st.error().category() == ErrorCategory::data);
  CHECK_THAT(st.error().message(), Contains("did not accept this image"));
  CHECK_THAT(st.error().message(), Contains("none is armed now"));
  CHECK(status_of(sys) == kStatusNotArmed);
}

TEST_CASE("load: EPERM under lockdown names lockdown", "[load]") {
  auto sys = machine();
  sys.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n";
  sys.file_load_errno = EPERM;
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message(), Contains("lockdown (integrity)"));
}

TEST_CASE("load: kernel EADDRNOTAVAIL with the iomem size when sysfs has none", "[load]") {
  auto sys = machine();
  sys.files.erase("/sys/kernel/kexec_crash_size");
  sys.file_load_errno = EADDRNOTAVAIL;
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  REQUIRE(sys.file_load_calls.size() == 1);
  CHECK_THAT(st.error().message(), Contains("512 MiB")); // from the iomem "Crash kernel" range
}

TEST_CASE("load: missing files and missing crash support", "[load]") {
  auto sys = machine();
  auto r = panic_req();
  r.kernel = "/boot/nope";
  auto st = load(sys, r);
  REQUIRE_FALSE(st);
  CHECK(st.error().sys_errno() == ENOENT);
  CHECK_THAT(st.error().message(), Contains("cannot open the kernel"));

  r = panic_req();
  r.initrd = "/boot/missing.img";
  st = load(sys, r);
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message(), Contains("cannot open the initrd /boot/missing.img"));

  sys.files.erase("/sys/kernel/kexec_crash_loaded");
  st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK(st.error().category() == ErrorCategory::unsupported);
  CHECK(sys.file_load_calls.empty());
}

TEST_CASE("status: 3 before load, 0 after, 3 after unload", "[status]") {
  auto sys = machine();
  CHECK(status_of(sys) == kStatusNotArmed);
  REQUIRE(load(sys, panic_req()));
  CHECK(status_of(sys) == kStatusArmed);
  REQUIRE(unload(sys, Slot::panic));
  CHECK(status_of(sys) == kStatusNotArmed);
  // Loading the reboot slot does not arm the panic slot.
  auto r = panic_req();
  r.slot = Slot::reboot;
  REQUIRE(load(sys, r));
  CHECK(status_of(sys) == kStatusNotArmed);
}

TEST_CASE("status: text and malformed state files", "[status]") {
  auto sys = machine(true, 256 * kMiB);
  sys.files["/proc/iomem"] = samples::kIomemLowHigh;
  auto s = probe_system(sys);
  REQUIRE(s);
  auto text = describe_status(*s);
  CHECK_THAT(text, Contains("panic kernel: loaded"));
  CHECK_THAT(text, Contains("crash memory: 256 MiB reserved"));
  CHECK_THAT(text, Contains("lockdown: none"));
  auto mem = describe_reservation(*s);
  CHECK_THAT(mem, Contains("low  0x00000000ab000000-0x00000000baffffff  256 MiB\n"));
  CHECK_THAT(mem, Contains("high 0x000000042f000000-0x000000043effffff  256 MiB  (kernel"));

  sys.files.erase("/sys/kernel/kexec_crash_loaded");
  s = probe_system(sys);
  REQUIRE(s);
  CHECK(status_exit_code(*s) == kStatusNotArmed);
  CHECK_THAT(describe_status(*s), Contains("not supported"));

  sys.files["/sys/kernel/kexec_crash_size"] = "lots\n";
  auto bad = probe_system(sys);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().category() == ErrorCategory::data);
  CHECK_THAT(bad.error().message(), Contains("/sys/kernel/kexec_crash_size"));

  sys.set_kexec_state(false, false, 0);
  sys.files["/proc/iomem"] = samples::kIomemNone;
  s = probe_system(sys);
  REQUIRE(s);
  CHECK_THAT(describe_reservation(*s), Contains("none reserved"));
  CHECK_THAT(describe_status(*s), Contains("crash memory: none reserved"));
}

TEST_CASE("load: with low+high ranges the images must fit the high one", "[load]") {
  // kexec_crash_size counts both ranges (512 MiB) but only the 256 MiB high range takes segments.
  auto sys = machine(false, 512 * kMiB);
  sys.files["/proc/iomem"] = samples::kIomemLowHigh;
  sys.images["/boot/initrd.img"].size = 250 * kMiB;
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK(sys.file_load_calls.empty());
  CHECK_THAT(st.error().message(), Contains("reservation of 256 MiB"));
  sys.images["/boot/initrd.img"].size = 200 * kMiB;
  REQUIRE(load(sys, panic_req()));
  CHECK(sys.file_load_calls.size() == 1);
}

TEST_CASE("exec reboots only into a loaded reboot kernel", "[loader][exec]") {
  crashkit::loader::FakeKexecSys sys;
  SECTION("nothing loaded: refused, no reboot") {
    sys.set_kexec_state(false, false, 256u << 20);
    auto st = crashkit::loader::exec_reboot_kernel(sys);
    REQUIRE_FALSE(st);
    CHECK(st.error().category() == crashkit::ErrorCategory::unsupported);
    CHECK(st.error().message().find("load --reboot") != std::string::npos);
    CHECK(sys.reboot_calls == 0);
  }
  SECTION("reboot kernel loaded: reboot(KEXEC) once") {
    sys.set_kexec_state(false, true, 256u << 20);
    REQUIRE(crashkit::loader::exec_reboot_kernel(sys));
    CHECK(sys.reboot_calls == 1);
  }
}

TEST_CASE("load: the kernel's EINVAL is a data error (the image or command line)", "[load]") {
  auto sys = machine();
  sys.file_load_errno = EINVAL;
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK(st.error().category() == ErrorCategory::data);
  CHECK(st.error().sys_errno() == EINVAL);
  CHECK_THAT(st.error().message(), Contains("kexec_file_load: the kernel rejected the arguments"));
}

TEST_CASE("load: a kernel that reads shorter than its size is refused before the kernel is asked",
          "[load]") {
  auto sys = machine();
  // Cut to nothing after the fstat: not one byte of the 12 MiB it claimed can be read.
  sys.images["/boot/vmlinuz"].truncated_after_open = 0;
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK(sys.file_load_calls.empty());
  CHECK(st.error().category() == ErrorCategory::data);
  CHECK(st.error().message() ==
        "load --panic /boot/vmlinuz: /boot/vmlinuz: truncated: the file has 12582912 bytes by "
        "fstat, but reading its setup header at offset 0 ended after 0");

  sys.images["/boot/vmlinuz"].truncated_after_open = 0x100; // inside the setup header
  st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message(), Contains("truncated: ") && Contains("ended after 256"));
  CHECK(sys.file_load_calls.empty());
}

TEST_CASE("load: the fake's images are real content the pre-check reads", "[load]") {
  auto sys = machine();
  sys.images["/boot/vmlinuz"].head.clear(); // 12 MiB of zeros
  auto st = load(sys, panic_req());
  REQUIRE_FALSE(st);
  CHECK(sys.file_load_calls.empty());
  CHECK_THAT(st.error().message(), Contains("/boot/vmlinuz: not a bzImage (no boot flag"));
}
