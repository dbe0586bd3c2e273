#include <catch2/catch.hpp>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <fstream>

#include "crashkit/admin/dump_check.hpp"
#include "crashkit/admin/self_test.hpp"
#include "crashkit/testing/fake_kexec_sys.hpp"
#include "sample_dump.hpp"
#include "temp_root.hpp"

using namespace crashkit;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

struct Root : crashkit::admin::testing::TempRoot {
  Root() : TempRoot("crashkit-test") {}
  admin::DumpEntry dump(const std::string& name, const std::string& status,
                        const std::string& head) const {
    const auto dir = p / "var/crash" / name;
    fs::create_directories(dir);
    const bool complete = status == "complete";
    admin::testing::spit(dir / (complete ? "vmcore" : "vmcore.incomplete"), head);
    admin::DumpEntry e;
    e.dir = dir.string();
    e.name = name;
    e.status = complete ? capture_init::DumpStatus::complete : capture_init::DumpStatus::incomplete;
    return e;
  }
};

} // namespace

TEST_CASE("self test: which dump answers the test", "[admin][test]") {
  Root r;
  const admin::PendingTest t{"2026-11-27-100000", "boot-a"};
  const auto old = r.dump("2026-11-26-090000", "complete", "KDUMP   old");
  SECTION("only an older dump: failed") {
    auto o = admin::evaluate_test(t, {old});
    CHECK_FALSE(o.saved);
    CHECK_THAT(o.detail, Contains("FAILED, no dump was saved"));
  }
  SECTION("a complete kdump after the start: saved, and read through") {
    const std::string kdump = admin::testing::slurp(admin::testing::samples().kdump);
    auto o = admin::evaluate_test(t, {old, r.dump("2026-11-27-100012", "complete", kdump)});
    CHECK(o.saved);
    CHECK(o.opens);
    CHECK_THAT(o.detail,
               Contains("2026-11-27-100012 (complete, kdump: header ok, 2 bitmaps ok, ") &&
                   Contains(" descriptors within the file, 64 sampled pages decompressed)"));
  }
  SECTION("a kdump signature alone does not pass: the file is read") {
    auto o = admin::evaluate_test(t, {r.dump("2026-11-27-100012", "complete", "KDUMP   x")});
    CHECK(o.saved);
    CHECK_FALSE(o.opens);
    CHECK_THAT(o.detail, Contains("complete, but ") && Contains("ends inside the kdump header"));
  }
  SECTION("a kdump with a damaged page: the detail names the offset") {
    std::string kdump = admin::testing::slurp(admin::testing::samples().kdump);
    kdump.resize(kdump.size() - 3000);
    auto o = admin::evaluate_test(t, {r.dump("2026-11-27-100012", "complete", kdump)});
    CHECK_FALSE(o.opens);
    CHECK_THAT(o.detail, Contains("past the end of the file") && Contains("at offset 0x"));
  }
  SECTION("incomplete only") {
    auto o = admin::evaluate_test(t, {r.dump("2026-11-27-100012", "incomplete", "KDUMP   x")});
    CHECK_FALSE(o.saved);
    CHECK_THAT(o.detail, Contains("is incomplete"));
  }
  SECTION("complete but not a dump") {
    auto o = admin::evaluate_test(t, {r.dump("2026-11-27-100012", "complete", "garbage!!")});
    CHECK(o.saved);
    CHECK_FALSE(o.opens);
    CHECK_THAT(o.detail, Contains("no \"KDUMP   \" signature"));
  }
  SECTION("a vmcore that cannot be opened: the real error, naming the file") {
    auto h = admin::check_dump((r.p / "no-such-vmcore").string());
    REQUIRE_FALSE(h);
    CHECK(h.error().category() == crashkit::ErrorCategory::no_input);
    CHECK_THAT(h.error().message(), Contains("no-such-vmcore") && Contains("No such file"));
  }
  SECTION("an ELF dump is read through its program headers") {
    const std::string elf = admin::testing::slurp(admin::testing::samples().elf);
    auto o = admin::evaluate_test(t, {r.dump("2026-11-27-100012", "complete", elf)});
    CHECK(o.opens);
    CHECK_THAT(o.detail, Contains("(complete, ELF: header ok, ") &&
                             Contains(" program headers within the file)"));
    CHECK_FALSE(admin::evaluate_test(t, {r.dump("2026-11-27-100013", "complete",
                                                "\x7f"
                                                "ELF....")})
                    .opens);
  }
}

TEST_CASE("self test: state files that cannot be read are errors, missing ones are absent",
          "[admin][test]") {
  Root r;
  loader::FakeKexecSys sys;
  sys.files["/proc/sys/kernel/random/boot_id"] = "boot-a\n";
  auto none = admin::read_pending_test(sys, r.p.string());
  REQUIRE(none);
  CHECK_FALSE(none->pending);
  CHECK_FALSE(admin::last_test_detail(r.p.string()));

  // A directory in place of the file: open works, read fails (EISDIR), also for root.
  fs::create_directories(r.p / "var/lib/crashkit/test-pending.json");
  fs::create_directories(r.p / "var/lib/crashkit/test-last.json");
  auto unreadable = admin::read_pending_test(sys, r.p.string());
  REQUIRE_FALSE(unreadable);
  CHECK_THAT(unreadable.error().message(), Contains("test-pending.json"));
  auto last = admin::last_test_detail(r.p.string());
  REQUIRE(last);
  CHECK_THAT(*last, Contains("test-last.json") && !Contains("malformed"));

  fs::remove(r.p / "var/lib/crashkit/test-pending.json");
  fs::remove(r.p / "var/lib/crashkit/test-last.json");
  std::ofstream(r.p / "var/lib/crashkit/test-pending.json") << "{not json";
  std::ofstream(r.p / "var/lib/crashkit/test-last.json") << "{not json";
  auto malformed = admin::read_pending_test(sys, r.p.string());
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().category() == crashkit::ErrorCategory::data);
  CHECK_THAT(malformed.error().message(), Contains("test-pending.json") && Contains("malformed"));
  CHECK(admin::last_test_detail(r.p.string()) == "test-last.json is malformed");
}

TEST_CASE("self test: refused when not armed, recorded and crashed when armed", "[admin][test]") {
  Root r;
  loader::FakeKexecSys sys;
  sys.files["/proc/sys/kernel/random/boot_id"] = "boot-a\n";
  sys.files["/proc/sys/kernel/sysrq"] = "176\n"; // Debian's default: no "crash" bit
  SECTION("not armed") {
    sys.set_kexec_state(false, false, 256u << 20);
    auto st = admin::run_test(sys, r.p.string(), "2026-11-27-100000");
    REQUIRE_FALSE(st);
    CHECK_THAT(st.error().message(), Contains("not armed") && Contains("was not crashed"));
    CHECK(sys.control_writes.empty());
    CHECK_FALSE(fs::exists(r.p / "var/lib/crashkit/test-pending.json"));
  }
  SECTION("the trigger fails: kernel.sysrq is put back and no test is pending") {
    sys.set_kexec_state(true, false, 256u << 20);
    sys.control_errno["/proc/sysrq-trigger"] = EPERM;
    auto st = admin::run_test(sys, r.p.string(), "2026-11-27-100000");
    REQUIRE_FALSE(st);
    CHECK_THAT(st.error().message(), Contains("/proc/sysrq-trigger") &&
                                         Contains("not crashed, kernel.sysrq is 176") &&
                                         Contains("Operation not permitted"));
    REQUIRE(sys.control_writes.size() == 3);
    CHECK(sys.control_writes[0] ==
          std::make_pair(std::string("/proc/sys/kernel/sysrq"), std::string("1\n")));
    CHECK(sys.control_writes[2] ==
          std::make_pair(std::string("/proc/sys/kernel/sysrq"), std::string("176\n")));
    CHECK(sys.files["/proc/sys/kernel/sysrq"] == "176\n");
    CHECK_FALSE(fs::exists(r.p / "var/lib/crashkit/test-pending.json"));
  }
  SECTION("enabling sysrq fails: nothing to restore, no test pending") {
    sys.set_kexec_state(true, false, 256u << 20);
    sys.control_errno["/proc/sys/kernel/sysrq"] = EROFS;
    auto st = admin::run_test(sys, r.p.string(), "2026-11-27-100000");
    REQUIRE_FALSE(st);
    CHECK_THAT(st.error().message(), Contains("kernel.sysrq is 176"));
    CHECK(sys.control_writes.size() == 1);
    CHECK_FALSE(fs::exists(r.p / "var/lib/crashkit/test-pending.json"));
  }
  SECTION("kernel.sysrq cannot be read: refused before anything is written") {
    sys.set_kexec_state(true, false, 256u << 20);
    sys.files.erase("/proc/sys/kernel/sysrq");
    auto st = admin::run_test(sys, r.p.string(), "2026-11-27-100000");
    REQUIRE_FALSE(st);
    CHECK_THAT(st.error().message(), Contains("kernel.sysrq") && Contains("not crashed"));
    CHECK(sys.control_writes.empty());
    CHECK_FALSE(fs::exists(r.p / "var/lib/crashkit/test-pending.json"));
  }
  SECTION("armed: pending written before the crash, then settled on the next boot") {
    sys.set_kexec_state(true, false, 256u << 20);
    REQUIRE(admin::run_test(sys, r.p.string(), "2026-11-27-100000"));
    REQUIRE(sys.control_writes.size() == 2);
    CHECK(sys.control_writes[0].first == "/proc/sys/kernel/sysrq");
    CHECK(sys.control_writes[1] ==
          std::make_pair(std::string("/proc/sysrq-trigger"), std::string("c")));
    CHECK(fs::exists(r.p / "var/lib/crashkit/test-pending.json"));

    auto same = admin::read_pending_test(sys, r.p.string());
    REQUIRE(same);
    REQUIRE(same->pending);
    CHECK(same->pending->started == "2026-11-27-100000");
    CHECK_FALSE(same->from_earlier_boot); // the crash has not happened in this boot

    sys.files["/proc/sys/kernel/random/boot_id"] = "boot-b\n";
    auto next = admin::read_pending_test(sys, r.p.string());
    REQUIRE(next);
    CHECK(next->from_earlier_boot);
    auto o = admin::settle_test(r.p.string(), *next->pending,
                                {r.dump("2026-11-27-100009", "complete",
                                        admin::testing::slurp(admin::testing::samples().kdump))});
    REQUIRE(o);
    CHECK(o->opens);
    CHECK_FALSE(fs::exists(r.p / "var/lib/crashkit/test-pending.json"));
    auto last = admin::last_test_detail(r.p.string());
    REQUIRE(last);
    CHECK_THAT(*last, Contains("dump saved in") && Contains("kdump: header ok"));
  }
}
