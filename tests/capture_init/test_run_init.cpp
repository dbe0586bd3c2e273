// run_init() end to end with FakeInitSys: temporary directories stand in for the initramfs, the
// mounted target and the crashed system's root; a synthetic vmcore stands in for /proc/vmcore.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "crashkit/capture_init/capture_init.hpp"
#include "crashkit/capture_init/device_signature.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"
#include "fake_init_sys.hpp"

using namespace crashkit::capture_init;
using crashkit::conf::Action;
using crashkit::fixtures::VmcoreBuilder;
using crashkit::fixtures::VmcoreSpec;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text, mode_t mode = 0644) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

mode_t mode_of(const std::string& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
        out.push_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One vmcore for all tests: building it is the slow part.
const std::string& fixture_vmcore() {
  static const std::string path = [] {
    VmcoreSpec spec;
    spec.ram = {{1, 0x9e}, {0x100, 0x1f00}};
    spec.sparse_file = true;
    auto b = VmcoreBuilder::create(spec);
    REQUIRE(b);
    REQUIRE(b->fill_mix(7));
    char tmpl[] = "/tmp/ck-init-vmcore-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    REQUIRE(b->write(tmpl));
    return std::string(tmpl);
  }();
  return path;
}

struct Rig {
  std::string root;
  InitPaths paths;
  InitOptions opts;
  FakeInitSys sys;

  Rig() {
    char tmpl[] = "/tmp/ck-init-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    root = tmpl;
    for (const char* d : {"/etc", "/etc/crashkit", "/etc/crashkit/hooks", "/proc"})
      REQUIRE(::mkdir((root + d).c_str(), 0755) == 0);
    paths.config = root + "/etc/crashkit/crashkit.conf";
    paths.modules = root + "/etc/crashkit/modules.load";
    paths.hooks_dir = root + "/etc/crashkit/hooks";
    paths.vmcore = fixture_vmcore();
    paths.cmdline = root + "/proc/cmdline";
    paths.target_mount = root + "/mnt/target";
    paths.rootfs_mount = root + "/mnt/root";
    paths.mount_pseudo = false;
    opts.device_timeout_s = 2;
    opts.poll_ms = 250;
    opts.hook_owner = ::getuid();
    sys.devices["UUID=0b3c-data"] = "/dev/vdb";
  }
  ~Rig() { (void)std::system(("rm -rf '" + root + "'").c_str()); }

  void config(const std::string& text) { spit(paths.config, text); }
  void hook(const char* name, mode_t mode = 0755) {
    spit(paths.hooks_dir + "/" + name, "#!/bin/sh\nexit 0\n", mode);
  }
  InitOutcome run() { return run_init(sys, paths, opts); }
  /// run() with RLIMIT_FSIZE at `bytes`: a disk that fills up despite the estimate.
  InitOutcome run_with_file_limit(rlim_t bytes) {
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto* const old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    InitOutcome out = run();
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
    std::signal(SIGXFSZ, old_handler);
    return out;
  }
  std::string dumps() const { return paths.target_mount + "/var/crash"; }
};

} // namespace

TEST_CASE("a dump to an ext4 target found by UUID", "[init]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\npath /var/crash\nkeep_dumps 2\nfinal_action poweroff\n"
           "kdump_pre /usr/local/bin/pre-hook --flag\nkdump_post /usr/local/bin/post-hook -v\n");
  spit(r.paths.modules, "# dependencies first\n/lib/modules/virtio.ko\n\n"
                        "  /lib/modules/virtio_blk.ko.zst  \n/lib/modules/missing.ko\n");
  r.hook("pre");
  r.hook("post");
  r.sys.appear_after = 3;
  // Old dumps: with keep_dumps 2 the one complete old dump stays beside the new one; of the
  // failed captures (no vmcore) only the newest stays, not counted.
  REQUIRE(::mkdir((r.root + "/mnt").c_str(), 0755) == 0);
  REQUIRE(::mkdir(r.paths.target_mount.c_str(), 0755) == 0);
  REQUIRE(::mkdir((r.paths.target_mount + "/var").c_str(), 0755) == 0);
  REQUIRE(::mkdir(r.dumps().c_str(), 0755) == 0);
  for (const char* d :
       {"2024-01-01-000000", "2024-02-01-000000", "2024-03-01-000000", "lost+found"})
    REQUIRE(::mkdir((r.dumps() + "/" + d).c_str(), 0700) == 0);
  spit(r.dumps() + "/2024-01-01-000000/vmcore", "old");

  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.status == DumpStatus::complete);
  CHECK_FALSE(out.failure_action_ran);
  CHECK(out.message.empty());

  // Modules in file order, blanks and comments skipped, a failing one not fatal.
  CHECK(r.sys.modules == std::vector<std::string>{"/lib/modules/virtio.ko",
                                                  "/lib/modules/virtio_blk.ko.zst",
                                                  "/lib/modules/missing.ko"});
  // Polled until the device appeared, then mounted with the configured type.
  CHECK(r.sys.finds.size() == 4);
  REQUIRE(r.sys.mounts.size() == 1);
  CHECK(r.sys.mounts[0].source == "/dev/vdb");
  CHECK(r.sys.mounts[0].target == r.paths.target_mount);
  CHECK(r.sys.mounts[0].fstype == "ext4");

  CHECK(entries(r.dumps()) == std::vector<std::string>{"2024-01-01-000000", "2024-03-01-000000",
                                                       "2025-11-27-101853", "lost+found"});
  const std::string dir = r.dumps() + "/2025-11-27-101853";
  CHECK(out.dump_dir == dir);
  CHECK(mode_of(dir) == 0700);
  // The synthetic core has no printk ring: dmesg.txt is skipped, the vmcore still saved.
  CHECK(entries(dir) == std::vector<std::string>{"report.json", "vmcore"});
  CHECK(mode_of(dir + "/vmcore") == 0600);
  CHECK(mode_of(dir + "/report.json") == 0600);
  const std::string core = slurp(dir + "/vmcore");
  CHECK(core.substr(0, 8) == "KDUMP   ");

  const auto j = nlohmann::json::parse(slurp(dir + "/report.json"));
  CHECK(j["version"] == 1);
  CHECK(j["time"] == "2025-11-27T10:18:53Z");
  CHECK(j["status"] == "complete");
  CHECK(j["exit_code"] == 0);
  CHECK(j["dump_level"] == 31);
  CHECK(j["format"] == "kdump");
  CHECK(j["compression"] == "zstd");
  CHECK(j["sizes"]["vmcore"] == core.size());
  CHECK(j["sizes"]["dmesg"] == 0);
  CHECK(j["kernel"].is_string());
  CHECK(j["pages"]["excluded"]["free"].get<std::uint64_t>() > 0);
  CHECK(j["pages"]["dumped"].get<std::uint64_t>() > 0);

  // Hooks: pre with the configured arguments, post with the status last; then final_action.
  REQUIRE(r.sys.runs.size() == 2);
  CHECK(r.sys.runs[0] == std::vector<std::string>{r.paths.hooks_dir + "/pre", "--flag"});
  CHECK(r.sys.runs[1] == std::vector<std::string>{r.paths.hooks_dir + "/post", "-v", "complete"});
  CHECK(r.sys.unmounts == std::vector<std::string>{r.paths.target_mount});
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::poweroff});
  CHECK(out.action_taken == Action::poweroff);
}

TEST_CASE("the configured core_collector options reach the capture", "[init]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\ncore_collector makedumpfile -E -d 1\n");
  const InitOutcome out = r.run();
  REQUIRE(out.status == DumpStatus::complete);
  const auto j = nlohmann::json::parse(slurp(out.dump_dir + "/report.json"));
  CHECK(j["format"] == "elf");
  CHECK(j["compression"] == "none");
  CHECK(j["dump_level"] == 1);
  CHECK(slurp(out.dump_dir + "/vmcore").substr(0, 4) == "\x7f"
                                                        "ELF");
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::reboot});
}

TEST_CASE("a target that never appears runs failure_action", "[init][failure]") {
  Rig r;
  r.config("ext4 LABEL=nowhere\nfailure_action halt\nkdump_post /bin/post\n");
  r.hook("post");
  const InitOutcome out = r.run();
  CHECK(out.status == DumpStatus::failed);
  CHECK(out.failure_action_ran);
  CHECK(out.message.find("dump target LABEL=nowhere did not appear within 2 s") !=
        std::string::npos);
  // Bounded: 2 s at 250 ms per poll.
  CHECK(r.sys.finds.size() == 9);
  CHECK(r.sys.mounts.empty());
  REQUIRE(r.sys.runs.size() == 1);
  CHECK(r.sys.runs[0].back() == "failed");
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
  CHECK(out.action_taken == Action::halt);
}

TEST_CASE("a disk too small runs failure_action and keeps the old dumps", "[init][failure]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkeep_dumps 3\nmin_free 1M\nfailure_action poweroff\n");
  for (const char* d :
       {"/mnt", "/mnt/target", "/mnt/target/var", "/mnt/target/var/crash",
        "/mnt/target/var/crash/2024-01-01-000000", "/mnt/target/var/crash/2024-02-01-000000"})
    REQUIRE(::mkdir((r.root + d).c_str(), 0755) == 0);
  spit(r.dumps() + "/2024-01-01-000000/vmcore", "old dump");
  const auto before = entries(r.dumps());

  SECTION("the estimate does not fit") {
    r.sys.fixed_space = FsSpace{64 * 1024};
  }
  SECTION("the estimate fits but min_free would be eaten") {
    auto est = estimate_dump_bytes(r.paths.vmcore, 31);
    REQUIRE(est);
    r.sys.fixed_space = FsSpace{*est + 512 * 1024};
  }
  const InitOutcome out = r.run();
  CHECK(out.status == DumpStatus::failed);
  CHECK(out.failure_action_ran);
  CHECK(out.message.find("not enough space for the dump") != std::string::npos);
  CHECK(out.message.find("old dumps kept") != std::string::npos);
  // The old dumps stay; the new directory holds what did fit: dmesg.txt (the synthetic core
  // has none) and the report.
  auto after = before;
  after.push_back("2025-11-27-101853");
  CHECK(entries(r.dumps()) == after);
  CHECK(slurp(r.dumps() + "/2024-01-01-000000/vmcore") == "old dump");
  REQUIRE(out.dump_dir == r.dumps() + "/2025-11-27-101853");
  CHECK(entries(out.dump_dir) == std::vector<std::string>{"report.json"});
  const auto j = nlohmann::json::parse(slurp(out.dump_dir + "/report.json"));
  CHECK(j["status"] == "failed");
  CHECK(j["exit_code"] == 73);
  CHECK(j["message"].get<std::string>().find("not enough space") != std::string::npos);
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::poweroff});
}

TEST_CASE("the estimate follows the dump level", "[init]") {
  auto all = estimate_dump_bytes(fixture_vmcore(), 0);
  auto filtered = estimate_dump_bytes(fixture_vmcore(), 31);
  REQUIRE(all);
  REQUIRE(filtered);
  CHECK(*filtered < *all);
  struct stat st {};
  REQUIRE(::stat(fixture_vmcore().c_str(), &st) == 0);
  CHECK(*all > static_cast<std::uint64_t>(st.st_size) / 2);
}

TEST_CASE("hooks that are writable by others are refused", "[init][hooks]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkdump_pre /bin/pre\nkdump_post /bin/post\n");
  r.hook("pre", 0757);
  r.hook("post", 0775);
  const InitOutcome out = r.run();
  CHECK(out.status == DumpStatus::complete);
  CHECK(r.sys.runs.empty());
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::reboot});
}

TEST_CASE("hooks owned by another user are refused", "[init][hooks]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkdump_post /bin/post\n");
  r.hook("post");
  r.opts.hook_owner = ::getuid() + 1;
  CHECK(r.run().status == DumpStatus::complete);
  CHECK(r.sys.runs.empty());
}

TEST_CASE("failure_action dump_to_rootfs saves to root= of the command line", "[init][rootfs]") {
  Rig r;
  r.config("xfs UUID=gone\nfailure_action dump_to_rootfs\npath /var/crash\n");
  spit(r.paths.cmdline, "BOOT_IMAGE=/boot/vmlinuz root=UUID=root-fs ro rootflags=ro,discard "
                        "irqpoll nr_cpus=1 reset_devices\n");
  r.sys.devices["UUID=root-fs"] = "/dev/vda1";
  r.sys.fstypes["/dev/vda1"] = "ext4";
  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.failure_action_ran);
  CHECK(out.status == DumpStatus::complete);
  CHECK(out.action_taken == Action::dump_to_rootfs);
  REQUIRE(r.sys.mounts.size() == 1);
  CHECK(r.sys.mounts[0].source == "/dev/vda1");
  CHECK(r.sys.mounts[0].target == r.paths.rootfs_mount);
  CHECK(r.sys.mounts[0].fstype == "ext4");
  CHECK(r.sys.mounts[0].data == "discard");
  CHECK(r.sys.unmounts == std::vector<std::string>{r.paths.rootfs_mount});
  CHECK(exists(r.paths.rootfs_mount + "/var/crash/2025-11-27-101853/vmcore"));
  // Then final_action (reboot by default).
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::reboot});
}

TEST_CASE("no target directive: the dump goes to path on the crashed system's root", "[init]") {
  Rig r;
  r.config("path /crash\n");
  spit(r.paths.cmdline, "root=/dev/sda2 rootfstype=btrfs\n");
  r.sys.devices["/dev/sda2"] = "/dev/sda2";
  const InitOutcome out = r.run();
  CHECK(out.status == DumpStatus::complete);
  CHECK_FALSE(out.failure_action_ran);
  REQUIRE(r.sys.mounts.size() == 1);
  CHECK(r.sys.mounts[0].fstype == "btrfs");
  CHECK(exists(r.paths.rootfs_mount + "/crash/2025-11-27-101853/report.json"));
}

TEST_CASE("a raw target gets the flattened stream", "[init][raw]") {
  Rig r;
  const std::string dev = r.root + "/rawdev";
  spit(dev, "");
  r.config("raw /dev/vdc\nkdump_post /bin/post\n");
  r.hook("post");
  r.sys.devices["/dev/vdc"] = dev;
  const InitOutcome out = r.run();
  CHECK(out.status == DumpStatus::complete);
  const std::string s = slurp(dev);
  REQUIRE(s.size() > 4096);
  CHECK(s.substr(0, 12) == "makedumpfile");
  REQUIRE(r.sys.runs.size() == 1);
  CHECK(r.sys.runs[0].back() == "complete");
  // The stream it left is crashkit's own: the next capture may write over it.
  auto again = probe_foreign_signature(dev);
  REQUIRE(again);
  CHECK_FALSE(again->has_value());
}

TEST_CASE("a raw target holding a filesystem is not written", "[init][raw]") {
  Rig r;
  const std::string dev = r.root + "/rawdev";
  const std::string before(8192, 'x');
  spit(dev, before);
  r.config("raw /dev/vdc\nkdump_pre /bin/pre\nkdump_post /bin/post\nfailure_action halt\n");
  r.hook("pre");
  r.hook("post");
  r.sys.devices["/dev/vdc"] = dev;
  r.sys.signatures[dev] = "ext4 filesystem UUID=5f0c, LABEL=home";
  const InitOutcome out = r.run();
  CHECK(r.sys.signature_probes == std::vector<std::string>{dev});
  CHECK(out.status == DumpStatus::failed);
  CHECK(out.failure_action_ran);
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
  CHECK(slurp(dev) == before);
  CHECK_THAT(out.message, Catch::Contains("raw dump target " + dev + " is not empty") &&
                              Catch::Contains("ext4 filesystem UUID=5f0c, LABEL=home") &&
                              Catch::Contains("wipefs"));
  // kdump_pre belongs to a dump that is being written; kdump_post hears that none was.
  REQUIRE(r.sys.runs.size() == 1);
  CHECK(r.sys.runs[0].front().ends_with("/post"));
  CHECK(r.sys.runs[0].back() == "failed");
}

TEST_CASE("a bad configuration runs its failure_action", "[init][failure]") {
  Rig r;
  r.config("failure_action halt\nbogus_directive 1\n");
  const InitOutcome out = r.run();
  CHECK(out.failure_action_ran);
  CHECK(r.sys.modules.empty());
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
}

TEST_CASE("failure_action shell without a shell reboots", "[init][failure]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nfailure_action shell\nkeep_dumps 1\n");
  r.paths.vmcore = r.root + "/no-vmcore";
  for (const char* d :
       {"/mnt", "/mnt/target", "/mnt/target/var", "/mnt/target/var/crash",
        "/mnt/target/var/crash/2024-01-01-000000", "/mnt/target/var/crash/2024-02-01-000000"})
    REQUIRE(::mkdir((r.root + d).c_str(), 0755) == 0);
  const InitOutcome out = r.run();
  CHECK(out.failure_action_ran);
  CHECK(out.message.find("no-vmcore") != std::string::npos);
  CHECK(r.sys.shells == 1);
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::reboot});
  // Nothing to save: no dump directory was made, and keep_dumps removed nothing.
  CHECK(entries(r.dumps()) == std::vector<std::string>{"2024-01-01-000000", "2024-02-01-000000"});
}

TEST_CASE("a dump cut short is kept as vmcore.incomplete and reported", "[init][failure]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nfailure_action halt\nkdump_post /bin/post\n");
  r.hook("post");
  const InitOutcome out = r.run_with_file_limit(1 << 20);

  CHECK(out.status == DumpStatus::incomplete);
  CHECK(out.failure_action_ran);
  REQUIRE_FALSE(out.dump_dir.empty());
  CHECK(entries(out.dump_dir) == std::vector<std::string>{"report.json", "vmcore.incomplete"});
  const auto j = nlohmann::json::parse(slurp(out.dump_dir + "/report.json"));
  CHECK(j["status"] == "incomplete");
  CHECK(j["exit_code"] != 0);
  CHECK(j["message"].get<std::string>().find("vmcore") != std::string::npos);
  CHECK(j["sizes"]["vmcore"].get<std::uint64_t>() > 0);
  REQUIRE(r.sys.runs.size() == 1);
  CHECK(r.sys.runs[0].back() == "incomplete");
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
}

TEST_CASE("a failing kdump_pre does not stop the dump", "[init][hooks]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkdump_pre /bin/pre\n");
  r.hook("pre");
  r.sys.hook_exit = 1;
  const InitOutcome out = r.run();
  CHECK(out.status == DumpStatus::complete);
  CHECK(r.sys.runs.size() == 1);
}

TEST_CASE("dump_to_rootfs without root= falls back to reboot", "[init][rootfs]") {
  Rig r;
  r.config("ext4 UUID=gone\nfailure_action dump_to_rootfs\n");
  spit(r.paths.cmdline, "console=ttyS0 irqpoll\n");
  const InitOutcome out = r.run();
  CHECK(out.failure_action_ran);
  CHECK(out.status == DumpStatus::failed);
  CHECK(out.action_taken == Action::dump_to_rootfs);
  CHECK(r.sys.mounts.empty());
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::reboot});
}

TEST_CASE("an exception in a step still ends in failure_action with a report", "[init][failure]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nfailure_action halt\nkdump_pre /bin/pre\n");
  r.hook("pre");
  SECTION("before the dump directory exists") {
    r.sys.bad_alloc_in = "find_device";
    const InitOutcome out = r.run();
    CHECK(out.status == DumpStatus::failed);
    CHECK(out.failure_action_ran);
    CHECK(out.message.find("bad_alloc") != std::string::npos);
    CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
  }
  SECTION("after: report.json says what happened") {
    r.sys.bad_alloc_in = "run";
    const InitOutcome out = r.run();
    CHECK(out.status == DumpStatus::failed);
    CHECK(out.failure_action_ran);
    CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
    REQUIRE_FALSE(out.dump_dir.empty());
    const auto j = nlohmann::json::parse(slurp(out.dump_dir + "/report.json"));
    CHECK(j["status"] == "failed");
    CHECK(j["message"].get<std::string>().find("bad_alloc") != std::string::npos);
    CHECK(j["exit_code"] != 0);
  }
  SECTION("the final action itself throws: failure_action is still tried") {
    r.config("ext4 UUID=0b3c-data\nfailure_action halt\nfinal_action poweroff\n");
    r.sys.bad_alloc_in = "power";
    const InitOutcome out = r.run();
    CHECK(out.failure_action_ran);
    CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::poweroff, PowerAction::halt});
  }
}

TEST_CASE("an OSRELEASE that is not UTF-8 still gets a report", "[init][failure]") {
  Rig r;
  VmcoreSpec spec;
  spec.ram = {{1, 0x9e}, {0x100, 0x1f00}};
  spec.sparse_file = true;
  spec.osrelease = "6.1.0-\xff\xfe-amd64";
  auto b = VmcoreBuilder::create(spec);
  INFO((b ? std::string() : b.error().message()));
  REQUIRE(b);
  REQUIRE(b->fill_mix(3));
  r.paths.vmcore = r.root + "/vmcore-bad-utf8";
  REQUIRE(b->write(r.paths.vmcore));
  r.config("ext4 UUID=0b3c-data\nfailure_action halt\n");
  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.status == DumpStatus::complete);
  CHECK_FALSE(out.failure_action_ran);
  const auto j = nlohmann::json::parse(slurp(out.dump_dir + "/report.json"));
  CHECK(j["kernel"] == "6.1.0-\xef\xbf\xbd\xef\xbf\xbd-amd64");
  CHECK(j["status"] == "complete");
}

namespace {

void make_dumps_dir(Rig& r) {
  for (const char* d : {"/mnt", "/mnt/target", "/mnt/target/var", "/mnt/target/var/crash"})
    if (!exists(r.root + d))
      REQUIRE(::mkdir((r.root + d).c_str(), 0755) == 0);
}

/// An old dump directory; complete ones get a vmcore of `bytes`.
void old_dump(Rig& r, const std::string& name, bool complete, std::size_t bytes = 5) {
  make_dumps_dir(r);
  REQUIRE(::mkdir((r.dumps() + "/" + name).c_str(), 0700) == 0);
  spit(r.dumps() + "/" + name + (complete ? "/vmcore" : "/dmesg.txt"), std::string(bytes, 'x'),
       0600);
}

std::uint64_t estimate() {
  auto est = estimate_dump_bytes(fixture_vmcore(), 31);
  REQUIRE(est);
  return *est;
}

} // namespace

TEST_CASE("keep_dumps 1 leaves only the new dump", "[init][retention]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkeep_dumps 1\n");
  old_dump(r, "2024-01-01-000000", true);
  old_dump(r, "2024-02-01-000000", true);
  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.status == DumpStatus::complete);
  CHECK(entries(r.dumps()) == std::vector<std::string>{"2025-11-27-101853"});
}

TEST_CASE("failed captures do not push out complete dumps", "[init][retention]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkeep_dumps 2\n");
  old_dump(r, "2024-01-01-000000", true);
  old_dump(r, "2024-02-01-000000", false);
  old_dump(r, "2024-03-01-000000", false);
  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.status == DumpStatus::complete);
  CHECK(entries(r.dumps()) ==
        std::vector<std::string>{"2024-01-01-000000", "2024-03-01-000000", "2025-11-27-101853"});
}

TEST_CASE("old dumps go only when the new dump then fits", "[init][retention]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkeep_dumps 2\nfailure_action halt\n");
  constexpr std::size_t kOld = 4 << 20;
  old_dump(r, "2024-01-01-000000", true, kOld);
  old_dump(r, "2024-02-01-000000", true, kOld);
  const std::uint64_t need = estimate();

  SECTION("removing the oldest makes room: removed first, then the dump") {
    r.sys.space_answers = {FsSpace{need - (1 << 20)}, FsSpace{need + (3 << 20)}};
    const InitOutcome out = r.run();
    INFO(out.message);
    CHECK(out.status == DumpStatus::complete);
    CHECK(entries(r.dumps()) == std::vector<std::string>{"2024-02-01-000000", "2025-11-27-101853"});
  }
  SECTION("even without the oldest it does not fit: nothing removed, dmesg and report kept") {
    r.sys.space_answers = {FsSpace{need - (8 << 20)}};
    const InitOutcome out = r.run();
    CHECK(out.status == DumpStatus::failed);
    CHECK(out.failure_action_ran);
    CHECK(out.message.find("not enough space") != std::string::npos);
    CHECK(out.message.find("all are kept") != std::string::npos);
    CHECK(entries(r.dumps()) ==
          std::vector<std::string>{"2024-01-01-000000", "2024-02-01-000000", "2025-11-27-101853"});
    CHECK(slurp(r.dumps() + "/2024-01-01-000000/vmcore").size() == kOld);
    CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
  }
  SECTION("it fits anyway: the old dump goes after the new one is complete") {
    r.sys.fixed_space = FsSpace{need + (64 << 20)};
    const InitOutcome out = r.run();
    CHECK(out.status == DumpStatus::complete);
    CHECK(entries(r.dumps()) == std::vector<std::string>{"2024-02-01-000000", "2025-11-27-101853"});
  }
}

TEST_CASE("a dump that fails after the space check removes no old dump", "[init][retention]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkeep_dumps 1\nfailure_action halt\n");
  old_dump(r, "2024-01-01-000000", true);
  const InitOutcome out = r.run_with_file_limit(1 << 20);
  CHECK(out.status == DumpStatus::incomplete);
  CHECK(exists(r.dumps() + "/2024-01-01-000000/vmcore"));
}

TEST_CASE("an existing name at the new dump's path is never written into", "[init][untrusted]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkeep_dumps 1\n");
  make_dumps_dir(r);
  const std::string victim = r.root + "/victim";
  REQUIRE(::mkdir(victim.c_str(), 0755) == 0);
  REQUIRE(::symlink(victim.c_str(), (r.dumps() + "/2025-11-27-101853").c_str()) == 0);
  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.status == DumpStatus::complete);
  CHECK(out.dump_dir == r.dumps() + "/2025-11-27-101854");
  CHECK(entries(victim).empty());
  // Not a directory the capture made: keep_dumps neither counts nor removes it.
  CHECK(entries(r.dumps()) == std::vector<std::string>{"2025-11-27-101853", "2025-11-27-101854"});
}

TEST_CASE("dump directories not owned by root are ignored by retention", "[init][untrusted]") {
  REQUIRE(::geteuid() == 0); // chown needs root; CI runs as root
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkeep_dumps 1\n");
  old_dump(r, "2024-01-01-000000", true);
  old_dump(r, "2030-01-01-000000", true); // planted by a user, "newer" than everything
  REQUIRE(::chown((r.dumps() + "/2030-01-01-000000").c_str(), 1234, 1234) == 0);
  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.status == DumpStatus::complete);
  CHECK(entries(r.dumps()) == std::vector<std::string>{"2025-11-27-101853", "2030-01-01-000000"});
}

TEST_CASE("a dump path others can write to, or a link on the way, is refused",
          "[init][untrusted]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nfailure_action halt\nkeep_dumps 1\n");
  old_dump(r, "2024-01-01-000000", true);
  std::string why;
  SECTION("world-writable PATH") {
    REQUIRE(::chmod(r.dumps().c_str(), 01777) == 0);
    why = "writable by group or others (mode 1777)";
  }
  SECTION("group-writable directory above it") {
    REQUIRE(::chmod((r.paths.target_mount + "/var").c_str(), 0775) == 0);
    why = "writable by group or others (mode 0775)";
  }
  SECTION("PATH is a symbolic link") {
    REQUIRE(::rename(r.dumps().c_str(), (r.paths.target_mount + "/elsewhere").c_str()) == 0);
    REQUIRE(::symlink("../elsewhere", r.dumps().c_str()) == 0);
    why = "a symbolic link or not a directory";
  }
  const InitOutcome out = r.run();
  CHECK(out.status == DumpStatus::failed);
  CHECK(out.failure_action_ran);
  CHECK(out.dump_dir.empty());
  CHECK(out.message.find(why) != std::string::npos);
  CHECK(out.message.find("/var") != std::string::npos);
  CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
  // Nothing removed, nothing made.
  const std::string real =
      exists(r.paths.target_mount + "/elsewhere") ? r.paths.target_mount + "/elsewhere" : r.dumps();
  CHECK(entries(real) == std::vector<std::string>{"2024-01-01-000000"});
}

TEST_CASE("a hook that hangs is killed and failure_action runs", "[init][hooks]") {
  Rig r;
  r.sys.hook_hangs = true;
  SECTION("kdump_pre: no vmcore, a report saying why") {
    r.config("ext4 UUID=0b3c-data\nfailure_action halt\nkdump_pre /bin/pre\n");
    r.hook("pre");
    const InitOutcome out = r.run();
    CHECK(out.failure_action_ran);
    CHECK(out.status == DumpStatus::failed);
    CHECK(out.message.find("kdump_pre (hook_timeout 300)") != std::string::npos);
    REQUIRE(r.sys.timeouts.size() == 1);
    CHECK(r.sys.timeouts[0] == std::optional<double>(300));
    REQUIRE_FALSE(out.dump_dir.empty());
    const auto j = nlohmann::json::parse(slurp(out.dump_dir + "/report.json"));
    CHECK(j["status"] == "failed");
    CHECK(j["message"].get<std::string>().find("kdump_pre") != std::string::npos);
    CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
  }
  SECTION("kdump_post after a complete dump") {
    r.config("ext4 UUID=0b3c-data\nfailure_action halt\nkdump_post /bin/post\n"
             "hook_timeout 20\n");
    r.hook("post");
    const InitOutcome out = r.run();
    CHECK(out.status == DumpStatus::complete);
    CHECK(out.failure_action_ran);
    REQUIRE(r.sys.timeouts.size() == 1);
    CHECK(r.sys.timeouts[0] == std::optional<double>(20));
    CHECK(r.sys.powers == std::vector<PowerAction>{PowerAction::halt});
  }
}

TEST_CASE("hook_timeout 0 runs hooks without a limit", "[init][hooks]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkdump_pre /bin/pre\nhook_timeout 0\n");
  r.hook("pre");
  CHECK(r.run().status == DumpStatus::complete);
  REQUIRE(r.sys.timeouts.size() == 1);
  CHECK_FALSE(r.sys.timeouts[0]);
}

TEST_CASE("a script hook's interpreter gets the hook's check", "[init][hooks]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nkdump_pre /bin/pre\n");
  const std::string interp = r.root + "/interp";
  spit(interp, "not really\n", 0755);
  std::size_t runs = 0;
  SECTION("a sound interpreter") {
    runs = 1;
  }
  SECTION("writable by others") {
    REQUIRE(::chmod(interp.c_str(), 0757) == 0);
  }
  SECTION("missing") {
    REQUIRE(::unlink(interp.c_str()) == 0);
  }
  SECTION("not executable") {
    REQUIRE(::chmod(interp.c_str(), 0644) == 0);
  }
  spit(r.paths.hooks_dir + "/pre", "#! " + interp + " -e\nexit 0\n", 0755);
  CHECK(r.run().status == DumpStatus::complete);
  CHECK(r.sys.runs.size() == runs);
}

TEST_CASE("RealInitSys::run kills a hook and what it started at the timeout", "[init][hooks]") {
  Rig r;
  const std::string pidfile = r.root + "/child.pid";
  RealInitSys real;
  auto rc = real.run({"/bin/sh", "-c", "sleep 600 & echo $! > " + pidfile + "; wait"}, 0.5);
  REQUIRE_FALSE(rc);
  CHECK(rc.error().sys_errno() == ETIMEDOUT);
  CHECK(rc.error().message().find("did not finish within 0.5 s; killed") != std::string::npos);
  const std::string pid = slurp(pidfile);
  REQUIRE_FALSE(pid.empty());
  // The orphaned sleep is gone (or a zombie waiting for its new parent) once SIGKILL lands.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    const std::string stat = slurp("/proc/" + pid.substr(0, pid.find('\n')) + "/stat");
    gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!gone)
      ::usleep(20000);
  }
  CHECK(gone);
  auto quick = real.run({"/bin/sh", "-c", "exit 3"}, 30.0);
  REQUIRE(quick);
  CHECK(*quick == 3);
}

TEST_CASE("a dump level list needs room for its last level only", "[init][space]") {
  Rig r;
  r.config("ext4 UUID=0b3c-data\nmin_free 1M\nfailure_action halt\n"
           "core_collector crashkit-capture -d 0,31 --compress none\n");
  auto at0 = estimate_dump_bytes(r.paths.vmcore, 0);
  auto at31 = estimate_dump_bytes(r.paths.vmcore, 31);
  REQUIRE(at0);
  REQUIRE(at31);
  REQUIRE(*at31 < *at0);
  // Room for level 31's dump and min_free, not for level 0's.
  r.sys.fixed_space = FsSpace{*at31 + (1 << 20) + 4096};
  REQUIRE(r.sys.fixed_space->available < *at0 + (1 << 20));
  const InitOutcome out = r.run();
  INFO(out.message);
  CHECK(out.status == DumpStatus::complete);
  CHECK_FALSE(out.failure_action_ran);
}
