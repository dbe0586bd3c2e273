#include <catch2/catch.hpp>

#include "crashkit/conf/config_parser.hpp"

using namespace crashkit::conf;
namespace cap = crashkit::capture;
using V = std::vector<std::string>;

namespace {

constexpr std::uint64_t kM = std::uint64_t{1} << 20, kG = kM << 10;

Config parse_ok(const std::string& text) {
  auto p = parse_config_text(text, "t.conf");
  INFO(text);
  if (!p.ok())
    FAIL(p.error_text());
  return std::move(p.config);
}

std::vector<std::string> errors_of(const std::string& text) {
  auto p = parse_config_text(text, "t.conf");
  std::vector<std::string> out;
  for (const auto& d : p.errors)
    out.push_back(d.str());
  return out;
}

} // namespace

TEST_CASE("config: an empty file gives the defaults", "[config]") {
  Config c = parse_ok("# nothing\n\n   \n");
  CHECK(c.path.value == "/var/crash");
  CHECK(c.path.origin.is_default());
  CHECK(c.path.origin.str() == "default");
  CHECK(c.target.value.kind == Target::Kind::root_fs);
  CHECK(c.core_collector.value == default_core_collector());
  CHECK(c.failure_action.value == Action::reboot);
  CHECK(c.final_action.value == Action::reboot);
  CHECK(c.kdump_pre.value.empty());
  CHECK(c.kdump_post.value.empty());
  CHECK_FALSE(c.force_rebuild.value);
  CHECK_FALSE(c.force_no_rebuild.value);
  CHECK(c.auto_reset_crashkernel.value);
  CHECK(c.keep_dumps.value == 0);
  CHECK(c.hook_timeout.value == 300);
  CHECK(c.min_free.value == 0);
  CHECK(c.capture_kernel.value.running);
  CHECK(c.append.value.empty());
  CHECK(c.remove.value.empty());
  CHECK(c.crashkernel.value.automatic);
  CHECK(c.files == V{"t.conf"});
}

TEST_CASE("config: every directive, with its origin", "[config]") {
  Config c = parse_ok("# crashkit.conf\n"
                      "path /var/crash/dumps\n"
                      "xfs UUID=0f2c4e8a-7d1b-4b8e-9c31-5a6f0e9d2b71\n"
                      "core_collector makedumpfile -l --message-level 7 -d 31\n"
                      "extra_modules virtio_blk nvme\n"
                      "failure_action shell\n"
                      "final_action poweroff\n"
                      "kdump_pre /usr/local/sbin/pre-dump --quiet\n"
                      "kdump_post '/usr/local/sbin/post dump'\n"
                      "force_rebuild 1\n"
                      "force_no_rebuild 0\n"
                      "auto_reset_crashkernel no\n"
                      "keep_dumps 3\n"
                      "min_free 512M\n"
                      "capture_kernel /boot/vmlinuz-6.1.0-kdump\n"
                      "append nr_cpus=1 \"console=ttyS0,115200\"\n"
                      "remove quiet hugepages\n"
                      "crashkernel 2G-64G:256M,64G-:512M\n");
  CHECK(c.path.value == "/var/crash/dumps");
  CHECK(c.path.origin == Origin{"t.conf", 2});
  CHECK(c.path.origin.str() == "t.conf:2");
  CHECK(c.target.value.kind == Target::Kind::filesystem);
  CHECK(c.target.value.fstype == "xfs");
  CHECK(c.target.value.device.kind == DeviceRef::Kind::uuid);
  CHECK(c.target.value.device.value == "0f2c4e8a-7d1b-4b8e-9c31-5a6f0e9d2b71");
  CHECK(c.target.origin.line == 3);
  CHECK(c.core_collector.value.program == CollectorProgram::makedumpfile);
  CHECK(c.core_collector.value.settings.compression == cap::Compression::lzo);
  CHECK(c.core_collector.value.argv == V{"makedumpfile", "-l", "--message-level", "7", "-d", "31"});
  CHECK(c.core_collector.origin.line == 4);
  CHECK(c.extra_modules.value == V{"virtio_blk", "nvme"});
  CHECK(c.failure_action.value == Action::shell);
  CHECK(c.final_action.value == Action::poweroff);
  CHECK(c.kdump_pre.value == V{"/usr/local/sbin/pre-dump", "--quiet"});
  CHECK(c.kdump_post.value == V{"/usr/local/sbin/post dump"});
  CHECK(c.force_rebuild.value);
  CHECK_FALSE(c.force_no_rebuild.value);
  CHECK(c.force_no_rebuild.origin.line == 11);
  CHECK_FALSE(c.auto_reset_crashkernel.value);
  CHECK(c.keep_dumps.value == 3);
  CHECK(c.min_free.value == 512 * kM);
  CHECK_FALSE(c.capture_kernel.value.running);
  CHECK(c.capture_kernel.value.path == "/boot/vmlinuz-6.1.0-kdump");
  CHECK(c.append.value == V{"nr_cpus=1", "console=ttyS0,115200"});
  CHECK(c.remove.value == V{"quiet", "hugepages"});
  CHECK_FALSE(c.crashkernel.value.automatic);
  CHECK(format_crashkernel(c.crashkernel.value.setting) == "crashkernel=2G-64G:256M,64G-:512M");
  CHECK(c.crashkernel.origin.line == 18);
}

TEST_CASE("config: target forms", "[config]") {
  for (std::string fs : {"ext4", "xfs", "btrfs", "ext3", "ext2"}) {
    Config c = parse_ok(fs + " LABEL=dumps\n");
    CHECK(c.target.value.fstype == fs);
    CHECK(c.target.value.device.kind == DeviceRef::Kind::label);
    CHECK(c.target.value.device.str() == "LABEL=dumps");
  }
  Config dev = parse_ok("ext4 /dev/vdb1\n");
  CHECK(dev.target.value.device.kind == DeviceRef::Kind::path);
  CHECK(dev.target.value.device.str() == "/dev/vdb1");
  Config raw = parse_ok("raw /dev/disk/by-partlabel/dump\n");
  CHECK(raw.target.value.kind == Target::Kind::raw);
  CHECK(raw.target.value.device.value == "/dev/disk/by-partlabel/dump");
}

TEST_CASE("config: value spellings", "[config]") {
  CHECK(parse_ok("force_rebuild yes\n").force_rebuild.value);
  CHECK(parse_ok("force_rebuild true\n").force_rebuild.value);
  CHECK_FALSE(parse_ok("force_rebuild false\n").force_rebuild.value);
  CHECK(parse_ok("auto_reset_crashkernel 1\n").auto_reset_crashkernel.value);
  CHECK(parse_ok("capture_kernel running\n").capture_kernel.value.running);
  CHECK(parse_ok("capture_kernel running\n").capture_kernel.origin.line == 1);
  CHECK(parse_ok("crashkernel auto\n").crashkernel.value.automatic);
  CHECK(parse_ok("min_free 0x100000\n").min_free.value == kM);
  CHECK(parse_ok("min_free 1G\n").min_free.value == kG);
  CHECK(parse_ok("keep_dumps 0\n").keep_dumps.value == 0);
  CHECK(parse_ok("hook_timeout 0\n").hook_timeout.value == 0);
  CHECK(parse_ok("hook_timeout 30\n").hook_timeout.value == 30);
  CHECK(parse_ok("default halt\n").failure_action.value == Action::halt);
  CHECK(parse_ok("failure_action dump_to_rootfs\n").failure_action.value == Action::dump_to_rootfs);
  CHECK(parse_ok("final_action halt\n").final_action.value == Action::halt);
  CHECK(parse_ok("final_action reboot\n").final_action.value == Action::reboot);
  CHECK(parse_ok("failure_action poweroff\n").failure_action.value == Action::poweroff);
  auto ck = parse_ok("crashkernel crashkernel=256M,high crashkernel=72M,low\n").crashkernel.value;
  CHECK(format_crashkernel(ck.setting) == "crashkernel=256M,high crashkernel=72M,low");
  auto bare = parse_ok("crashkernel 256M,high 72M,low\n").crashkernel.value;
  CHECK(bare.setting == ck.setting);
  // A whole command in double quotes, as kdump.conf files sometimes have it.
  auto quoted = parse_ok("core_collector \"makedumpfile -c -d 31\"\n").core_collector.value;
  CHECK(quoted.argv == V{"makedumpfile", "-c", "-d", "31"});
  CHECK(quoted.settings.compression == cap::Compression::zlib);
  auto hook = parse_ok("kdump_post \"/usr/bin/logger -t kdump\"\n").kdump_post.value;
  CHECK(hook == V{"/usr/bin/logger", "-t", "kdump"});
  // Single quotes keep a path with a space as one word.
  CHECK(parse_ok("kdump_pre '/opt/my hooks/pre'\n").kdump_pre.value == V{"/opt/my hooks/pre"});
  // Two double-quoted words are two words, not re-split.
  CHECK(parse_ok("kdump_pre \"/opt/a b\" \"c d\"\n").kdump_pre.value == V{"/opt/a b", "c d"});
  // Values are words, never shell text.
  auto shellish = parse_ok("kdump_pre /bin/echo $(reboot) ; rm\n").kdump_pre.value;
  CHECK(shellish == V{"/bin/echo", "$(reboot)", ";", "rm"});
  // CRLF line endings and a missing final newline.
  CHECK(parse_ok("path /srv/crash\r\nkeep_dumps 2").keep_dumps.value == 2);
}

TEST_CASE("config: every error message", "[config]") {
  struct Row {
    const char* line;
    const char* message;
  };
  const Row rows[] = {
      {"bogus 1", "unknown directive 'bogus'"},
      {"Path /var/crash", "unknown directive 'Path'"},
      {"path", "path needs a value"},
      {"path /a /b", "path takes one value, got 2"},
      {"path var/crash", "path must be absolute, not 'var/crash'"},
      {"path \"/var/crash", "column 6: unterminated double quote"},
      {"core_collector", "core_collector needs a value"},
      {"core_collector cp", "core_collector cp is not supported: use crashkit-capture or "
                            "makedumpfile options"},
      {"core_collector makedumpfile -d 99", "core_collector: dump level '99' is not a number 0-31"},
      {"core_collector makedumpfile -x /usr/lib/debug/vmlinux --split",
       "core_collector: crashkit-capture has no equivalent for -x /usr/lib/debug/vmlinux, --split"},
      {"ext4", "ext4 needs a value"},
      {"ext4 /dev/a /dev/b", "ext4 takes one value, got 2"},
      {"xfs sdb1", "xfs needs /dev/..., UUID=... or LABEL=..., not 'sdb1'"},
      {"btrfs UUID=", "btrfs needs /dev/..., UUID=... or LABEL=..., not 'UUID='"},
      {"ext3 LABEL=", "ext3 needs /dev/..., UUID=... or LABEL=..., not 'LABEL='"},
      {"ext2 PARTUUID=1234", "ext2 needs /dev/..., UUID=... or LABEL=..., not 'PARTUUID=1234'"},
      {"raw UUID=1234", "raw needs a /dev/... device, not 'UUID=1234'"},
      {"raw", "raw needs a value"},
      {"ssh root@dumphost", "ssh targets are not supported yet"},
      {"nfs nfs.example.com:/export/crash", "nfs targets are not supported yet"},
      {"nfs [2001:db8::1]:/export/crash", "nfs targets are not supported yet"},
      {"nfs nfs.example.com", "nfs needs server:/export, not 'nfs.example.com'"},
      {"nfs", "nfs needs a value"},
      {"ssh dumphost", "ssh needs user@host, not 'dumphost'"},
      {"ssh root@", "ssh needs user@host, not 'root@'"},
      {"ssh a@b c@d", "ssh takes one value, got 2"},
      {"virtiofs dumps", "virtiofs targets are not supported"},
      {"minix /dev/vdb", "minix targets are not supported"},
      {"extra_modules", "extra_modules needs a value"},
      {"extra_modules ok ../evil", "extra_modules: '../evil' is not a module name"},
      {"failure_action", "failure_action needs a value"},
      {"failure_action explode",
       "failure_action takes reboot, halt, poweroff, shell or dump_to_rootfs, not 'explode'"},
      {"default explode",
       "default takes reboot, halt, poweroff, shell or dump_to_rootfs, not 'explode'"},
      {"final_action shell", "final_action takes reboot, halt or poweroff, not 'shell'"},
      {"final_action dump_to_rootfs",
       "final_action takes reboot, halt or poweroff, not 'dump_to_rootfs'"},
      {"final_action reboot now", "final_action takes one value, got 2"},
      {"kdump_pre", "kdump_pre needs a value"},
      {"kdump_pre pre.sh", "kdump_pre needs an absolute path to an executable, not 'pre.sh'"},
      {"kdump_post ./post", "kdump_post needs an absolute path to an executable, not './post'"},
      {"force_rebuild", "force_rebuild needs a value"},
      {"force_rebuild 2", "force_rebuild takes 0 or 1 (or yes/no, true/false), not '2'"},
      {"force_no_rebuild maybe",
       "force_no_rebuild takes 0 or 1 (or yes/no, true/false), not 'maybe'"},
      {"auto_reset_crashkernel on",
       "auto_reset_crashkernel takes 0 or 1 (or yes/no, true/false), not 'on'"},
      {"keep_dumps", "keep_dumps needs a value"},
      {"hook_timeout 5m", "hook_timeout needs a whole number (0 means no limit), not '5m'"},
      {"keep_dumps -1", "keep_dumps needs a whole number (0 keeps all), not '-1'"},
      {"keep_dumps 3x", "keep_dumps needs a whole number (0 keeps all), not '3x'"},
      {"keep_dumps 99999999999999999999",
       "keep_dumps needs a whole number (0 keeps all), not '99999999999999999999'"},
      {"min_free lots", "min_free: size \"lots\" at character 1: expected a size (a number with an "
                        "optional K, M, G or T suffix)"},
      {"min_free 5MB", "min_free: size \"5MB\" at character 3: unexpected character 'B'"},
      {"min_free 1G 2G", "min_free takes one value, got 2"},
      {"capture_kernel", "capture_kernel needs a value"},
      {"capture_kernel vmlinuz",
       "capture_kernel takes an absolute path or 'running', not 'vmlinuz'"},
      {"append", "append needs a value"},
      {"append crashkernel=128M", "append: the capture kernel must not get crashkernel= "
                                  "('crashkernel=128M')"},
      {"remove", "remove needs a value"},
      {"remove quiet=1", "remove takes parameter names, not 'quiet=1'"},
      {"crashkernel", "crashkernel needs a value"},
      {"crashkernel 512M-2G;64M", "crashkernel \"512M-2G;64M\" at character 8: expected ':' after "
                                  "the range, found ';'"},
      {"crashkernel auto 256M", "crashkernel \"auto 256M\" at character 1: expected a size (a "
                                "number with an optional K, M, G or T suffix)"},
      {"sshkey /root/.ssh/kdump_id_rsa",
       "'sshkey' is a kdump.conf directive crashkit does not support"},
      {"dracut_args --omit-drivers nouveau",
       "'dracut_args' is a kdump.conf directive crashkit does not support"},
      {"kdump_emergency /bin/x", "'kdump_emergency' is a kdump.conf directive crashkit does not "
                                 "support"},
      {"extra_bins /usr/bin/x", "'extra_bins' is a kdump.conf directive crashkit does not support"},
      {"fence_kdump_args -p 7410", "'fence_kdump_args' is a kdump.conf directive crashkit does "
                                   "not support"},
      {"fence_kdump_nodes node1", "'fence_kdump_nodes' is a kdump.conf directive crashkit does "
                                  "not support"},
      {"net root@host", "'net' is a deprecated kdump.conf directive, not supported"},
      {"options virtio_blk x=1", "'options' is a deprecated kdump.conf directive, not supported"},
      {"link_delay 10", "'link_delay' is a deprecated kdump.conf directive, not supported"},
      {"disk_timeout 10", "'disk_timeout' is a deprecated kdump.conf directive, not supported"},
      {"debug_mem_level 1",
       "'debug_mem_level' is a deprecated kdump.conf directive, not supported"},
      {"blacklist nouveau", "'blacklist' is a deprecated kdump.conf directive, not supported"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.line);
    auto errs = errors_of(std::string("# line one\n") + r.line + "\n");
    REQUIRE(errs.size() == 1);
    CHECK(errs[0] == std::string("t.conf:2: ") + r.message);
  }
}

TEST_CASE("config: duplicates and two targets in one file", "[config]") {
  CHECK(errors_of("path /a\nkeep_dumps 1\npath /b\n") ==
        V{"t.conf:3: duplicate directive 'path' (first at line 1)"});
  CHECK(errors_of("ext4 /dev/vdb1\n\nxfs LABEL=x\n") ==
        V{"t.conf:3: second dump target 'xfs' (the first is 'ext4' at line 1): only one is "
          "allowed"});
  CHECK(errors_of("raw /dev/vdc\next4 /dev/vdb1\n") ==
        V{"t.conf:2: second dump target 'ext4' (the first is 'raw' at line 1): only one is "
          "allowed"});
  CHECK(errors_of("ext4 /dev/vdb1\nssh root@h\n") ==
        V{"t.conf:2: second dump target 'ssh' (the first is 'ext4' at line 1): only one is "
          "allowed"});
  CHECK(errors_of("failure_action shell\ndefault reboot\n") ==
        V{"t.conf:2: 'default' repeats 'failure_action' of line 1"});
  // A duplicate is reported even when the first line was itself wrong.
  CHECK(errors_of("keep_dumps x\nkeep_dumps y\n") ==
        V{"t.conf:1: keep_dumps needs a whole number (0 keeps all), not 'x'",
          "t.conf:2: duplicate directive 'keep_dumps' (first at line 1)"});
}

TEST_CASE("config: core_collector takes crashkit-capture's own options", "[config]") {
  CHECK(errors_of("core_collector crashkit-capture --no-dedup --zstd-level 3 --read-mode pread "
                  "--low-memory\n")
            .empty());
  CHECK(errors_of("core_collector crashkit-capture -d 11,31\n").empty());
  CHECK(errors_of("core_collector crashkit-capture -c -l\n") ==
        V{"t.conf:1: core_collector: choose one compression (-c, -l, -p, -z or --compress)"});
}

TEST_CASE("config: conflicting settings", "[config]") {
  CHECK(errors_of("force_rebuild 1\nforce_no_rebuild 1\n") ==
        V{"t.conf:2: force_no_rebuild 1 conflicts with force_rebuild 1 at t.conf:1"});
  CHECK(errors_of("force_no_rebuild yes\nforce_rebuild true\n") ==
        V{"t.conf:2: force_rebuild 1 conflicts with force_no_rebuild 1 at t.conf:1"});
  CHECK(errors_of("force_rebuild 1\nforce_no_rebuild 0\n").empty());
  CHECK(errors_of("raw /dev/vdc\ncore_collector makedumpfile -E -d 31\n") ==
        V{"t.conf:2: a raw target takes the flattened or kdump format, not ELF (-E); see "
          "t.conf:1"});
  CHECK(errors_of("raw /dev/vdc\ncore_collector makedumpfile -F -d 31\n").empty());
}

TEST_CASE("config: all errors are reported at once, in line order", "[config]") {
  auto p = parse_config_text("path relative\n"
                             "ext4 /dev/vdb1\n"
                             "nfs host:/x\n"
                             "keep_dumps many\n"
                             "whatever\n"
                             "min_free 1Q\n"
                             "force_rebuild 1\n"
                             "force_no_rebuild 1\n"
                             "path /dup\n",
                             "/etc/crashkit/crashkit.conf");
  REQUIRE_FALSE(p.ok());
  CHECK(p.error_text() ==
        "/etc/crashkit/crashkit.conf:1: path must be absolute, not 'relative'\n"
        "/etc/crashkit/crashkit.conf:3: second dump target 'nfs' (the first is 'ext4' at line "
        "2): only one is allowed\n"
        "/etc/crashkit/crashkit.conf:4: keep_dumps needs a whole number (0 keeps all), not "
        "'many'\n"
        "/etc/crashkit/crashkit.conf:5: unknown directive 'whatever'\n"
        "/etc/crashkit/crashkit.conf:6: min_free: size \"1Q\" at character 2: unexpected "
        "character 'Q'\n"
        "/etc/crashkit/crashkit.conf:9: duplicate directive 'path' (first at line 1)\n"
        "/etc/crashkit/crashkit.conf:8: force_no_rebuild 1 conflicts with force_rebuild 1 at "
        "/etc/crashkit/crashkit.conf:7\n");
  auto r = std::move(p).into_result();
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == crashkit::ErrorCategory::data);
  CHECK_THAT(r.error().message(), Catch::StartsWith("/etc/crashkit/crashkit.conf:1: path must"));
  CHECK_THAT(r.error().message(), Catch::EndsWith("at /etc/crashkit/crashkit.conf:7"));
}

TEST_CASE("config: render_config round-trips", "[config]") {
  const std::string text = "ext4 UUID=abcd-1234\n"
                           "path /dumps\n"
                           "core_collector makedumpfile -l --message-level 7 -d 31\n"
                           "extra_modules virtio_blk\n"
                           "failure_action dump_to_rootfs\n"
                           "final_action halt\n"
                           "kdump_pre '/opt/pre hook' arg\n"
                           "kdump_post /opt/post\n"
                           "hook_timeout 60\n"
                           "force_no_rebuild 1\n"
                           "auto_reset_crashkernel no\n"
                           "keep_dumps 5\n"
                           "min_free 1G\n"
                           "capture_kernel /boot/vmlinuz-capture\n"
                           "append nr_cpus=1 'acpi_rsdp=0x1 x'\n"
                           "remove quiet\n"
                           "crashkernel 256M,high 72M,low\n";
  Config c = parse_ok(text);
  CHECK(render_config(c) == text);
  CHECK(render_config(parse_ok("")) == "");
  std::string all = render_config(parse_ok(""), true);
  CHECK_THAT(all, Catch::Contains("path /var/crash\n"));
  CHECK_THAT(all, Catch::Contains("core_collector crashkit-capture -d 31\n"));
  CHECK_THAT(all, Catch::Contains("crashkernel auto\n"));
  CHECK_THAT(all, Catch::Contains("hook_timeout 300\n"));
  Config again = parse_ok(all);
  CHECK(render_config(again, true) == all);
}
