// Pure parts of the capture init: retention choice, directory names, panic line, report.json,
// root= parsing, hook permission checks.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "crashkit/capture_init/capture_init.hpp"
#include "crashkit/capture_init/dump_dir.hpp"
#include "crashkit/capture_init/dump_report.hpp"

using namespace crashkit::capture_init;
using Names = std::vector<std::string>;

TEST_CASE("dump directory names", "[retention]") {
  CHECK(is_dump_dir_name("2026-11-27-101853"));
  CHECK_FALSE(is_dump_dir_name("2026-11-27-10:18:53"));
  CHECK_FALSE(is_dump_dir_name("2026-11-27-101853.old"));
  CHECK_FALSE(is_dump_dir_name("127.0.0.1-2026-11-27-10:18:53"));
  CHECK_FALSE(is_dump_dir_name("2026-11-27-10185a"));
  CHECK_FALSE(is_dump_dir_name("2026-11-27-10185"));
  CHECK_FALSE(is_dump_dir_name("2026-11-27T101853"));
  CHECK_FALSE(is_dump_dir_name("2026-1a-27-101853"));
  CHECK_FALSE(is_dump_dir_name("lost+found"));
  CHECK_FALSE(is_dump_dir_name(""));
  CHECK(dump_dir_name(1764238733) == "2025-11-27-101853");
  CHECK(dump_dir_name(0) == "1970-01-01-000000");
}

namespace {

// "C:2026-01-01-000000" is a complete dump, "F:..." a failed one, "I:..." an incomplete one.
std::vector<OldDump> olds(const Names& tagged) {
  std::vector<OldDump> out;
  for (const auto& t : tagged) {
    const DumpStatus s = t[0] == 'C'   ? DumpStatus::complete
                         : t[0] == 'I' ? DumpStatus::incomplete
                                       : DumpStatus::failed;
    out.push_back({t.substr(2), s});
  }
  return out;
}

} // namespace

TEST_CASE("retention choice: keep_dumps n leaves n complete dumps with the new one",
          "[retention]") {
  const Names three = {"C:2026-01-03-000000", "C:2026-01-01-000000", "C:lost+found",
                       "C:2026-01-02-120000", "F:notes.txt"};
  struct Row {
    std::uint64_t keep;
    Names dumps;
    Names removed;
  };
  const std::vector<Row> rows = {
      {0, three, {}}, // 0 keeps everything
      {1, three, {"2026-01-01-000000", "2026-01-02-120000", "2026-01-03-000000"}}, // new only
      {2, three, {"2026-01-01-000000", "2026-01-02-120000"}}, // 1 old + the new one
      {3, three, {"2026-01-01-000000"}},                      // 2 old + the new one
      {4, three, {}},                                         // room for all
      {100, three, {}},
      {1, {}, {}},                                             // empty directory
      {1, {"C:2026-01-01-000000"}, {"2026-01-01-000000"}},     // at most 1: the new one
      {2, {"C:lost+found", "F:x"}, {}},                        // no dumps at all
      {2, {"C:2026-01-01-000000", "C:2026-01-01-000000"}, {}}, // duplicates counted once
      {3,
       {"C:2025-12-31-235959", "C:2026-01-01-000000", "C:2024-06-01-000000", "C:2026-02-01-000000"},
       {"2024-06-01-000000", "2025-12-31-235959"}}, // oldest first
      // Failed and incomplete captures never push out a complete dump...
      {2,
       {"C:2026-01-01-000000", "F:2026-01-02-000000", "I:2026-01-03-000000", "F:2026-01-04-000000"},
       {"2026-01-02-000000", "2026-01-03-000000"}},
      // ...and go when older than a complete dump that goes.
      {2,
       {"C:2026-01-01-000000", "F:2026-01-02-000000", "C:2026-01-03-000000", "F:2026-01-04-000000"},
       {"2026-01-01-000000", "2026-01-02-000000"}},
      {1,
       {"F:2026-01-01-000000", "I:2026-01-02-000000"},
       {"2026-01-01-000000", "2026-01-02-000000"}},
  };
  for (const auto& r : rows) {
    INFO("keep " << r.keep << ", " << r.dumps.size() << " entries");
    CHECK(dumps_to_remove(olds(r.dumps), r.keep) == r.removed);
  }
}

TEST_CASE("panic line from dmesg", "[report]") {
  const std::string log = "[    0.000000] Linux version 6.1.0-56-amd64\n"
                          "[   12.345678] sysrq: Trigger a crash\n"
                          "[   12.345700] Kernel panic - not syncing: sysrq triggered crash  \n"
                          "[   12.345800] CPU: 0 PID: 1 Comm: sh\n";
  CHECK(find_panic_line(log) == "Kernel panic - not syncing: sysrq triggered crash");
  CHECK(find_panic_line("no panic here\n").empty());
  CHECK(find_panic_line("Kernel panic - not syncing: Fatal exception") ==
        "Kernel panic - not syncing: Fatal exception");
  // A panic inside a panic: the last one is the one that stopped the machine.
  CHECK(find_panic_line("Kernel panic - not syncing: a\nKernel panic - not syncing: b\n") ==
        "Kernel panic - not syncing: b");
}

TEST_CASE("report.json content", "[report]") {
  DumpReport r;
  r.time = 1764238733;
  r.kernel = "6.1.0-56-amd64";
  r.panic = "Kernel panic - not syncing: sysrq triggered crash";
  r.dump_level = 31;
  r.format = "kdump";
  r.compression = "zstd";
  r.vmcore_bytes = 123456;
  r.dmesg_bytes = 789;
  crashkit::capture::CaptureStats s;
  s.max_mapnr = 1000;
  s.ram_pages = 900;
  s.excluded.zero = 1;
  s.excluded.cache = 2;
  s.excluded.cache_private = 3;
  s.excluded.user = 4;
  s.excluded.free = 5;
  s.excluded.hwpoison = 6;
  s.excluded.offline = 7;
  s.dumped_pages = 800;
  s.written_pages = 700;
  s.unreadable_pages = 0;
  s.shared_pages = 9;
  s.dump_level = 31;
  s.requested_dump_level = 31;
  r.stats = s;
  r.duration_s = 2.5;
  r.status = DumpStatus::complete;
  r.exit_code = 0;

  const auto j = nlohmann::json::parse(report_json(r));
  CHECK(j["version"] == 1);
  CHECK(j["time"] == "2025-11-27T10:18:53Z");
  CHECK(j["kernel"] == "6.1.0-56-amd64");
  CHECK(j["panic"] == "Kernel panic - not syncing: sysrq triggered crash");
  CHECK(j["dump_level"] == 31);
  CHECK(j["format"] == "kdump");
  CHECK(j["compression"] == "zstd");
  CHECK(j["sizes"] == nlohmann::json({{"vmcore", 123456}, {"dmesg", 789}}));
  CHECK(j["pages"]["excluded"] == nlohmann::json({{"zero", 1},
                                                  {"cache", 2},
                                                  {"cache_private", 3},
                                                  {"user", 4},
                                                  {"free", 5},
                                                  {"hwpoison", 6},
                                                  {"offline", 7}}));
  CHECK(j["pages"]["total"] == 1000);
  CHECK(j["pages"]["dumped"] == 800);
  CHECK(j["duration_s"] == 2.5);
  CHECK(j["status"] == "complete");
  CHECK(j["exit_code"] == 0);
  CHECK(j["message"] == "");
  CHECK(j["requested_dump_level"] == 31);
  CHECK(j["dump_level_reasons"] == nlohmann::json::array());
  CHECK(j.size() == 15);

  // A level the VMCOREINFO could not support: what was achieved, and why.
  s.dump_level = 1;
  s.level_reasons = {"VMCOREINFO has missing or impossible OFFSET(page.flags)=1048576 (...)"};
  r.dump_level = 1;
  r.stats = s;
  const auto reduced = nlohmann::json::parse(report_json(r));
  CHECK(reduced["dump_level"] == 1);
  CHECK(reduced["requested_dump_level"] == 31);
  CHECK(reduced["dump_level_reasons"] == nlohmann::json(s.level_reasons));

  DumpReport failed;
  failed.status = DumpStatus::failed;
  failed.exit_code = 73;
  failed.message = "disk full";
  const auto f = nlohmann::json::parse(report_json(failed));
  CHECK(f["kernel"].is_null());
  CHECK(f["panic"].is_null());
  CHECK(f["pages"].is_null());
  CHECK(f["status"] == "failed");
  CHECK(f["exit_code"] == 73);
  CHECK(f["requested_dump_level"] == f["dump_level"]);
  CHECK(f.size() == 15);
}

TEST_CASE("report.json read back", "[report]") {
  DumpReport r;
  r.kernel = "6.1.0-56-amd64";
  r.panic = "Kernel panic - not syncing: sysrq triggered crash";
  r.dump_level = 1;
  r.status = DumpStatus::incomplete;
  auto back = parse_report_json(report_json(r));
  REQUIRE(back);
  CHECK(back->kernel == r.kernel);
  CHECK(back->panic == r.panic);
  CHECK(back->dump_level == 1);
  CHECK(back->status == DumpStatus::incomplete);

  // Unknown kernel and panic are written as null and read back as unknown.
  DumpReport failed;
  failed.status = DumpStatus::failed;
  auto f = parse_report_json(report_json(failed));
  REQUIRE(f);
  CHECK(f->kernel.empty());
  CHECK(f->panic.empty());
  CHECK(f->status == DumpStatus::failed);

  auto partial = parse_report_json(R"({"status": null})");
  REQUIRE(partial);
  CHECK_FALSE(partial->dump_level);
  CHECK_FALSE(partial->status);

  CHECK_FALSE(parse_report_json("{not json"));
  CHECK_FALSE(parse_report_json("[]"));
  auto wrong = parse_report_json(R"({"kernel": 6})");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().category() == crashkit::ErrorCategory::data);
}

TEST_CASE("dump file format from its first bytes", "[dump_dir]") {
  const auto probe = [](std::string_view head) {
    return probe_dump_format(head.data(), head.size());
  };
  CHECK(probe("KDUMP   \x06") == DumpFileFormat::kdump);
  CHECK(probe("\x7f"
              "ELF\x02\x01") == DumpFileFormat::elf);
  CHECK(probe(std::string_view("makedumpfile\0\0\0\0", 16)) == DumpFileFormat::flat);
  CHECK(probe("KDUMP  ") == DumpFileFormat::unknown); // one byte short of the signature
  CHECK(probe("\x7f"
              "EL") == DumpFileFormat::unknown);
  CHECK(probe("makedumpfil") == DumpFileFormat::unknown);
  CHECK(probe("garbage!!") == DumpFileFormat::unknown);
  CHECK(probe("") == DumpFileFormat::unknown);
}

TEST_CASE("a dump's status: the files decide, a failed report only without a vmcore",
          "[dump_dir]") {
  CHECK(settled_status(DumpStatus::complete, DumpStatus::failed) == DumpStatus::complete);
  CHECK(settled_status(DumpStatus::incomplete, DumpStatus::failed) == DumpStatus::failed);
  CHECK(settled_status(DumpStatus::incomplete, DumpStatus::complete) == DumpStatus::incomplete);
  CHECK(settled_status(DumpStatus::incomplete, std::nullopt) == DumpStatus::incomplete);
  CHECK(settled_status(DumpStatus::failed, std::nullopt) == DumpStatus::failed);
  CHECK(status_name(DumpStatus::incomplete) == "incomplete");
}

TEST_CASE("root= from the capture kernel's command line", "[rootfs]") {
  auto r = parse_root_from_cmdline(
      "BOOT_IMAGE=/vmlinuz-6.1.0 root=UUID=1234-abcd ro quiet rootflags=discard,ro "
      "rootfstype=ext4 irqpoll nr_cpus=1\n");
  REQUIRE(r);
  CHECK(r->device == "UUID=1234-abcd");
  CHECK(r->fstype == "ext4");
  CHECK(r->flags == "discard,ro");

  auto last = parse_root_from_cmdline("root=/dev/sda1 root=PARTUUID=abc-01");
  REQUIRE(last);
  CHECK(last->device == "PARTUUID=abc-01");
  CHECK(last->fstype.empty());

  auto quoted = parse_root_from_cmdline("foo=\"a b\" root=LABEL=root -- root=/dev/evil");
  REQUIRE(quoted);
  CHECK(quoted->device == "LABEL=root");

  CHECK_FALSE(parse_root_from_cmdline("console=ttyS0 irqpoll"));
  CHECK_FALSE(parse_root_from_cmdline("root=0801"));
  CHECK_FALSE(parse_root_from_cmdline("root=/dev/nfs nfsroot=1.2.3.4:/x"));
}

namespace {
std::string temp_file(const char* content, mode_t mode) {
  char tmpl[] = "/tmp/ck-hook-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, content, std::strlen(content)) >= 0);
  ::close(fd);
  REQUIRE(::chmod(tmpl, mode) == 0);
  return tmpl;
}
} // namespace

TEST_CASE("hook permission checks", "[hooks]") {
  const uid_t me = ::getuid();
  const std::string ok = temp_file("#!/bin/sh\n", 0755);
  CHECK(check_hook_file(ok, me));
  const std::string gw = temp_file("#!/bin/sh\n", 0775);
  const std::string ow = temp_file("#!/bin/sh\n", 0757);
  const std::string noexec = temp_file("#!/bin/sh\n", 0644);
  auto e = check_hook_file(gw, me);
  REQUIRE_FALSE(e);
  CHECK(e.error().message().find("group- or world-writable") != std::string::npos);
  CHECK_FALSE(check_hook_file(ow, me));
  auto n = check_hook_file(noexec, me);
  REQUIRE_FALSE(n);
  CHECK(n.error().message().find("not executable") != std::string::npos);
  auto owner = check_hook_file(ok, me + 1);
  REQUIRE_FALSE(owner);
  CHECK(owner.error().message().find("owned by uid") != std::string::npos);
  CHECK_FALSE(check_hook_file("/tmp", me));
  CHECK_FALSE(check_hook_file("/nonexistent/hook", me));
  for (const auto& p : {ok, gw, ow, noexec})
    ::unlink(p.c_str());
}
