#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <fstream>

#include "crashkit/admin/admin_lock.hpp"
#include "crashkit/admin/dump_list.hpp"
#include "crashkit/admin/dump_location.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "temp_root.hpp"

using namespace crashkit::admin;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

using TempDir = crashkit::admin::testing::TempRoot;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

} // namespace

TEST_CASE("list_dumps: report.json, files on disk, oldest first", "[admin]") {
  TempDir t;
  write(t.p / "2026-11-27-101752/vmcore", std::string(4096, 'x'));
  write(t.p / "2026-11-27-101752/report.json",
        R"({"version":1,"kernel":"6.1.0-56-amd64","panic":"sysrq triggered crash",)"
        R"("dump_level":31,"status":"complete"})");
  write(t.p / "2026-11-26-090000/vmcore.incomplete", std::string(100, 'x'));
  write(t.p / "2026-11-26-090000/report.json",
        R"({"status":"incomplete","kernel":"6.1.0-55-amd64"})");
  write(t.p / "2026-11-28-000000/report.json", "{not json");
  write(t.p / "2026-11-29-000000/report.json", R"({"status":"failed","message":"no target"})");
  write(t.p / "notes/vmcore", "x"); // not a dump directory
  auto l = list_dumps(t.p.string());
  REQUIRE(l);
  REQUIRE(l->size() == 4);
  const auto& a = (*l)[0];
  CHECK(a.name == "2026-11-26-090000");
  CHECK(a.status == crashkit::capture_init::DumpStatus::incomplete);
  CHECK(a.vmcore_bytes == 100);
  CHECK(a.kernel == "6.1.0-55-amd64");
  const auto& b = (*l)[1];
  CHECK(b.status == crashkit::capture_init::DumpStatus::complete);
  CHECK(b.vmcore_bytes == 4096);
  CHECK(b.panic == "sysrq triggered crash");
  CHECK(b.dump_level == 31);
  CHECK((*l)[2].status == crashkit::capture_init::DumpStatus::failed);
  CHECK_THAT((*l)[2].problem, Contains("report.json"));
  CHECK((*l)[3].status == crashkit::capture_init::DumpStatus::failed);
  const auto j = to_json(b);
  CHECK(j["date"] == "2026-11-27-101752");
  CHECK(j["size"] == 4096);
  CHECK(j["dump_level"] == 31);
  CHECK(to_json(a)["dump_level"].is_null());
}

TEST_CASE("list_dumps: null kernel and panic (as the capture writes them) are unknown", "[admin]") {
  TempDir t;
  write(t.p / "2026-11-27-101752/report.json",
        R"({"version":1,"kernel":null,"panic":null,"dump_level":31,"pages":null,)"
        R"("status":"failed","exit_code":73,"message":"disk full"})");
  write(t.p / "2026-11-27-101752/vmcore.incomplete", std::string(100, 'x'));
  auto l = list_dumps(t.p.string());
  REQUIRE(l);
  REQUIRE(l->size() == 1);
  const auto& d = (*l)[0];
  CHECK(d.problem.empty());
  CHECK(d.kernel.empty());
  CHECK(d.panic.empty());
  CHECK(d.dump_level == 31);
  CHECK(d.status == crashkit::capture_init::DumpStatus::failed);
}

TEST_CASE("list_dumps: a FIFO named report.json does not hang it", "[admin]") {
  TempDir t;
  write(t.p / "2026-11-27-101752/vmcore", "x");
  REQUIRE(::mkfifo((t.p / "2026-11-27-101752/report.json").c_str(), 0600) == 0);
  // In a child with an alarm: a list that blocks on the FIFO dies of SIGALRM instead of
  // hanging the suite.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(20);
    auto l = list_dumps(t.p.string());
    const bool ok = l && l->size() == 1 &&
                    (*l)[0].status == crashkit::capture_init::DumpStatus::complete &&
                    (*l)[0].problem.find("not a regular file") != std::string::npos;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK_FALSE(WIFSIGNALED(status));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("list_dumps: links and oversized reports are not followed or read", "[admin]") {
  TempDir t;
  const fs::path secret = t.p / "secret.json";
  write(secret, R"({"kernel":"leaked","status":"complete"})");
  write(t.p / "elsewhere/report.json", R"({"kernel":"elsewhere","status":"complete"})");
  write(t.p / "2026-11-27-101752/vmcore", "x");
  fs::create_symlink(secret, t.p / "2026-11-27-101752/report.json");
  fs::create_symlink(t.p / "elsewhere", t.p / "2026-11-28-000000"); // a linked "dump"
  write(t.p / "2026-11-29-000000/vmcore", "x");
  write(t.p / "2026-11-29-000000/report.json",
        R"({"kernel":")" + std::string(1 << 20, 'k') + R"(","status":"complete"})");
  auto l = list_dumps(t.p.string());
  REQUIRE(l);
  REQUIRE(l->size() == 2);
  CHECK((*l)[0].name == "2026-11-27-101752");
  CHECK((*l)[0].kernel.empty());
  CHECK_FALSE((*l)[0].problem.empty());
  CHECK((*l)[1].name == "2026-11-29-000000");
  CHECK((*l)[1].kernel.empty());
  CHECK_THAT((*l)[1].problem, Contains("larger than"));
}

TEST_CASE("list_dumps: directories not owned by root are not dumps", "[admin][root]") {
  REQUIRE(::geteuid() == 0); // chown needs root; CI runs as root
  TempDir t;
  write(t.p / "2026-11-27-101752/vmcore", "x");
  write(t.p / "2030-01-01-000000/vmcore", "x");
  REQUIRE(::chown((t.p / "2030-01-01-000000").c_str(), 1234, 1234) == 0);
  auto l = list_dumps(t.p.string());
  REQUIRE(l);
  REQUIRE(l->size() == 1);
  CHECK((*l)[0].name == "2026-11-27-101752");
}

TEST_CASE("list_dumps: a missing directory is an empty list", "[admin]") {
  auto l = list_dumps("/nonexistent/crashkit/dumps");
  REQUIRE(l);
  CHECK(l->empty());
}

TEST_CASE("mount_point_of reads mountinfo, escapes included", "[admin]") {
  const char* mi = "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
                   "30 22 252:16 /sub /srv/bind rw - ext4 /dev/vdb rw\n"
                   "31 22 252:16 / /srv/crash\\040dumps rw,relatime - ext4 /dev/vdb rw\n";
  auto mp = mount_point_of(mi, 252, 16);
  REQUIRE(mp);
  CHECK(*mp == "/srv/crash dumps");
  CHECK(*mount_point_of(mi, 252, 1) == "/");
  auto none = mount_point_of(mi, 8, 0);
  REQUIRE_FALSE(none);
  CHECK_THAT(none.error().message(), Contains("8:0 is not mounted"));
}

TEST_CASE("dump_directory: root filesystem, raw, missing label", "[admin]") {
  auto c = crashkit::conf::parse_config_text("path /var/crash\n").config;
  CHECK(*dump_directory(c, "/img") == "/img/var/crash");
  auto raw = crashkit::conf::parse_config_text("raw /dev/vdc\n");
  REQUIRE(raw.ok());
  auto r = dump_directory(raw.config);
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == crashkit::ErrorCategory::unsupported);
  auto lbl = crashkit::conf::parse_config_text("ext4 LABEL=crashkit-no-such-label-42\n");
  REQUIRE(lbl.ok());
  auto m = dump_directory(lbl.config);
  REQUIRE_FALSE(m);
  CHECK_THAT(m.error().message(), Contains("LABEL=crashkit-no-such-label-42"));
}

TEST_CASE("admin lock: a tree's lock is ROOT/run/crashkit.lock, created with its directory",
          "[admin]") {
  TempDir t;
  CHECK(crashkit::admin::lock_path("") == "/run/crashkit.lock");
  const std::string path = crashkit::admin::lock_path(t.p.string());
  CHECK(path == (t.p / "run/crashkit.lock").string());
  auto held = AdminLock::acquire(path, 0);
  REQUIRE(held);
  CHECK(std::filesystem::exists(path));
}

TEST_CASE("check_dump_path: the capture's PATH rule, seen before a crash", "[admin]") {
  TempDir t;
  const auto c = crashkit::conf::parse_config_text("path /var/crash\n").config;
  const std::string root = t.p.string();
  CHECK(check_dump_path(c, root)); // missing: the capture makes it
  fs::create_directories(t.p / "var/crash");
  fs::permissions(t.p / "var", fs::perms(0755));
  fs::permissions(t.p / "var/crash", fs::perms(0755));
  CHECK(check_dump_path(c, root));
  SECTION("world-writable, even with the sticky bit") {
    REQUIRE(::chmod((t.p / "var/crash").c_str(), 01777) == 0);
    auto r = check_dump_path(c, root);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Contains((t.p / "var/crash").string()) &&
                                        Contains("writable by group or others (mode 1777)"));
  }
  SECTION("a link on the way") {
    fs::rename(t.p / "var", t.p / "data");
    fs::create_symlink("data", t.p / "var");
    auto r = check_dump_path(c, root);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Contains("symbolic link"));
  }
  SECTION("a raw target has no PATH to check") {
    auto raw = crashkit::conf::parse_config_text("raw /dev/vdc\n");
    REQUIRE(raw.ok());
    CHECK(check_dump_path(raw.config, root));
  }
}

TEST_CASE("admin lock: a second holder waits, then gives up naming the lock", "[admin]") {
  TempDir t;
  const std::string path = (t.p / "crashkit.lock").string();
  auto first = AdminLock::acquire(path, 1);
  REQUIRE(first);
  auto second = AdminLock::acquire(path, 1);
  REQUIRE_FALSE(second);
  CHECK_THAT(second.error().message(),
             Contains("crashkit.lock") && Contains("another crashkit") &&
                 Contains("locked by pid " + std::to_string(::getpid()) + ":"));
  CHECK(second.error().sys_errno() == EBUSY);
  { auto moved = std::move(*first); } // released here
  CHECK(AdminLock::acquire(path, 1));
}
