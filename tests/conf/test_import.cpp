#include <catch2/catch.hpp>

#include <fstream>

#include "crashkit/conf/import.hpp"

using namespace crashkit::conf;
namespace cap = crashkit::capture;
using V = std::vector<std::string>;

namespace {

std::string sample(const std::string& name) {
  std::ifstream in(std::string(CONF_SAMPLES_DIR) + "/" + name);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

V strs(const std::vector<ImportItem>& items) {
  V out;
  for (const auto& i : items)
    out.push_back(i.str());
  return out;
}

// The rendered import must be a valid crashkit.conf with the same values.
void check_renders_valid(const ImportResult& r) {
  std::string text = render_import(r, {"src"});
  auto p = parse_config_text(text, "imported.conf");
  INFO(text);
  REQUIRE(p.ok());
  CHECK(render_config(p.config) == render_config(r.config));
}

} // namespace

TEST_CASE("import: Fedora's shipped kdump.conf and sysconfig", "[import]") {
  auto r = import_kdump_utils(sample("fedora-kdump.conf"), sample("fedora-sysconfig-kdump"));
  CHECK(r.unmapped.empty());
  CHECK(strs(r.changed) ==
        V{"/etc/kdump.conf:43: core_collector makedumpfile -l --message-level 7 -d 31: "
          "core_collector becomes crashkit-capture -d 31 --compress lzo --message-level 7",
          "/etc/sysconfig/kdump:14: KEXEC_ARGS=\"-s\": crashkit uses kexec_file_load by default"});
  const Config& c = r.config;
  CHECK(c.path.value == "/var/crash");
  CHECK(c.core_collector.value.argv ==
        V{"crashkit-capture", "-d", "31", "--compress", "lzo", "--message-level", "7"});
  CHECK(c.auto_reset_crashkernel.value);
  CHECK(c.append.value.size() == 16);
  CHECK(c.append.value.front() == "irqpoll");
  CHECK(c.append.origin == Origin{"/etc/sysconfig/kdump", 11});
  CHECK(c.remove.value == V{"hugepages", "hugepagesz", "slub_debug", "quiet", "log_buf_len",
                            "swiotlb", "cma", "hugetlb_cma", "ignition.firstboot"});
  CHECK(c.capture_kernel.value.running);
  CHECK(c.files == V{"/etc/kdump.conf", "/etc/sysconfig/kdump"});
  check_renders_valid(r);
}

TEST_CASE("import: a customised kdump.conf and sysconfig", "[import]") {
  auto r = import_kdump_utils(sample("fedora-custom-kdump.conf"), sample("custom-sysconfig-kdump"));
  CHECK(strs(r.unmapped) ==
        V{"/etc/kdump.conf:9: extra_bins /usr/bin/lftp: 'extra_bins' is a kdump.conf directive "
          "crashkit does not support",
          "/etc/kdump.conf:10: dracut_args --omit-drivers \"nouveau\": 'dracut_args' is a "
          "kdump.conf directive crashkit does not support",
          "/etc/kdump.conf:12: force_no_rebuild 1: force_no_rebuild 1 conflicts with "
          "force_rebuild 1 at /etc/kdump.conf:11",
          "/etc/sysconfig/kdump:4: KEXEC_ARGS=\"-s -d\": crashkit takes no extra kexec arguments",
          "/etc/sysconfig/kdump:5: KDUMP_STDLOGLVL=4: no crashkit equivalent",
          "/etc/sysconfig/kdump:6: KDUMP_COMMANDLINE=\"$(cat /proc/cmdline) console=ttyS0\": "
          "uses shell expansion, which is not evaluated",
          "/etc/sysconfig/kdump:7: if [ -e /etc/kdump.local ]; then . /etc/kdump.local; fi: not "
          "a VARIABLE=value line; shell code is not evaluated"});
  CHECK(strs(r.changed) ==
        V{"/etc/kdump.conf:5: core_collector makedumpfile -F -l --message-level 7 -d 31 "
          "--cyclic-buffer 8192: core_collector: dropped --cyclic-buffer=8192 (no "
          "crashkit-capture equivalent)",
          "/etc/kdump.conf:5: core_collector makedumpfile -F -l --message-level 7 -d 31 "
          "--cyclic-buffer 8192: core_collector becomes crashkit-capture -d 31 --compress lzo "
          "--format flat --message-level 7",
          "/etc/kdump.conf:5: core_collector makedumpfile -F -l --message-level 7 -d 31 "
          "--cyclic-buffer 8192: -F dropped: a filesystem target gets the kdump-compressed format",
          "/etc/sysconfig/kdump:1: KDUMP_KERNELVER=\"6.8.5-301.fc40.x86_64\": capture_kernel "
          "/boot/vmlinuz-6.8.5-301.fc40.x86_64",
          "/etc/sysconfig/kdump:2: KDUMP_COMMANDLINE_REMOVE=\"quiet rhgb log_buf_len=16M\": "
          "'log_buf_len=16M' removes every log_buf_len= parameter"});
  const Config& c = r.config;
  CHECK(c.target.value.device.str() == "LABEL=crash");
  CHECK(c.core_collector.value.argv ==
        V{"crashkit-capture", "-d", "31", "--compress", "lzo", "--message-level", "7"});
  CHECK_FALSE(c.core_collector.value.settings.format.has_value());
  CHECK(c.failure_action.value == Action::shell);
  CHECK(c.final_action.value == Action::poweroff);
  CHECK(c.kdump_pre.value == V{"/etc/kdump/pre.d/10-stop-watchdog"});
  // Conflicting rebuild knobs fall back to the defaults.
  CHECK_FALSE(c.force_rebuild.value);
  CHECK_FALSE(c.force_no_rebuild.value);
  CHECK(c.capture_kernel.value.path == "/boot/vmlinuz-6.8.5-301.fc40.x86_64");
  CHECK(c.capture_kernel.origin == Origin{"/etc/sysconfig/kdump", 1});
  // Kernel quoting survives: the parameter keeps its double quotes for the kernel.
  CHECK(c.append.value ==
        V{"irqpoll", "nr_cpus=1", "reset_devices", "dyndbg=\"file drivers/nvme/* +p\""});
  CHECK(c.remove.value == V{"quiet", "rhgb", "log_buf_len"});
  check_renders_valid(r);
}

TEST_CASE("import: kdump.conf targets and collectors", "[import]") {
  auto raw = import_kdump_utils("raw /dev/vdc\ncore_collector makedumpfile -F -c -d 31\n", "");
  CHECK(raw.unmapped.empty());
  CHECK(raw.config.target.value.kind == Target::Kind::raw);
  CHECK(raw.config.core_collector.value.settings.format == cap::OutputFormat::flat); // kept for raw
  auto ssh = import_kdump_utils("ssh kdump@host\nsshkey /root/.ssh/kdump_id_rsa\npath /crash\n"
                                "core_collector scp\n",
                                "");
  CHECK(strs(ssh.unmapped) ==
        V{"/etc/kdump.conf:1: ssh kdump@host: ssh targets are not supported yet",
          "/etc/kdump.conf:2: sshkey /root/.ssh/kdump_id_rsa: 'sshkey' is a kdump.conf "
          "directive crashkit does not support",
          "/etc/kdump.conf:4: core_collector scp: core_collector scp is not supported: use "
          "crashkit-capture or makedumpfile options"});
  CHECK(ssh.config.target.value.kind == Target::Kind::root_fs);
  CHECK(ssh.config.core_collector.value == default_core_collector());
  check_renders_valid(ssh);
}

TEST_CASE("import: sysconfig shell forms", "[import]") {
  auto r = import_kdump_utils("", "export KDUMP_COMMANDLINE_APPEND='nr_cpus=1 irqpoll'\n"
                                  "KDUMP_COMMANDLINE_APPEND=\"nr_cpus=2\"\n"
                                  "KDUMP_KERNELVER=/boot/vmlinuz-capture\n"
                                  "KDUMP_COMMANDLINE_REMOVE=\n"
                                  "KDUMP_IMG=vmlinux\n"
                                  "FADUMP_COMMANDLINE_APPEND=\"nr_cpus=16\"\n"
                                  "KDUMP_COMMANDLINE_APPEND2=a b\n"
                                  "9LIVES=1\n"
                                  "KDUMP_COMMANDLINE_APPEND=crashkernel=128M\n");
  // The last assignment wins, as in sh, and is then validated like a crashkit.conf line.
  CHECK(strs(r.unmapped) ==
        V{"/etc/sysconfig/kdump:5: KDUMP_IMG=vmlinux: no crashkit equivalent",
          "/etc/sysconfig/kdump:6: FADUMP_COMMANDLINE_APPEND=\"nr_cpus=16\": fadump is not "
          "supported",
          "/etc/sysconfig/kdump:7: KDUMP_COMMANDLINE_APPEND2=a b: not a single VARIABLE=value "
          "assignment; shell code is not evaluated",
          "/etc/sysconfig/kdump:8: 9LIVES=1: not a VARIABLE=value line; shell code is not "
          "evaluated",
          "/etc/sysconfig/kdump:9: KDUMP_COMMANDLINE_APPEND=crashkernel=128M: append: the "
          "capture kernel must not get crashkernel= ('crashkernel=128M')"});
  CHECK(r.config.append.value.empty());
  CHECK(r.config.capture_kernel.value.path == "/boot/vmlinuz-capture");
  CHECK(r.changed.empty());
}

TEST_CASE("import: Debian's shipped kdump-tools defaults", "[import]") {
  auto r = import_kdump_tools(sample("debian-kdump-tools"));
  CHECK(r.unmapped.empty());
  CHECK(strs(r.changed) == V{"/etc/default/kdump-tools:13: KDUMP_KERNEL=/var/lib/kdump/vmlinuz: "
                             "the packaged link to the running kernel: capture_kernel running"});
  CHECK(r.config.path.value == "/var/crash");
  CHECK(r.config.path.origin == Origin{"/etc/default/kdump-tools", 17});
  CHECK(r.config.capture_kernel.value.running);
  CHECK(r.config.core_collector.value == default_core_collector());
  CHECK(r.config.files == V{"/etc/default/kdump-tools"});
  check_renders_valid(r);
}

TEST_CASE("import: a customised kdump-tools file", "[import]") {
  auto r = import_kdump_tools(sample("debian-kdump-tools-custom"));
  const std::string f = "/etc/default/kdump-tools:";
  CHECK(strs(r.unmapped) ==
        V{f + "4: KDUMP_INITRD=/boot/initrd.img-6.1.0-28-amd64-kdump: crashkit builds its own "
              "capture initramfs",
          f + "9: KDUMP_COMPRESSION=xz: crashkit compresses pages inside the dump "
              "(core_collector options)",
          f + "12: SSH=\"kdump@dumphost.example.com\": network targets are not supported yet",
          f + "13: HOSTTAG=hostname: no crashkit equivalent",
          f + "15: KDUMP_SYSCTL=\"kernel.panic_on_oops=1 kernel.panic_on_warn=1\": no crashkit "
              "equivalent"});
  CHECK(strs(r.changed) ==
        V{f + "10: MAKEDUMP_ARGS=\"-c -d 31 --cyclic-buffer 4096\": core_collector: dropped "
              "--cyclic-buffer=4096 (no crashkit-capture equivalent)",
          f + "10: MAKEDUMP_ARGS=\"-c -d 31 --cyclic-buffer 4096\": core_collector becomes "
              "crashkit-capture -d 31 --compress zlib",
          f + "11: KDUMP_CMDLINE_APPEND=\"reset_devices systemd.unit=kdump-tools-dump.service "
              "nr_cpus=1 irqpoll usbcore.nousb\": 'systemd.unit=kdump-tools-dump.service' "
              "dropped: the capture initramfs runs crashkit-capture itself"});
  const Config& c = r.config;
  CHECK(c.path.value == "/srv/crash");
  CHECK(c.core_collector.value.settings.compression == cap::Compression::zlib);
  CHECK(c.failure_action.value == Action::reboot);
  CHECK(c.failure_action.origin == Origin{"/etc/default/kdump-tools", 6});
  CHECK(c.keep_dumps.value == 3);
  CHECK(c.capture_kernel.value.path == "/boot/vmlinuz-6.1.0-28-amd64");
  CHECK(c.append.value == V{"reset_devices", "nr_cpus=1", "irqpoll", "usbcore.nousb"});
  check_renders_valid(r);
}

TEST_CASE("import: kdump-tools values that do not map", "[import]") {
  auto r = import_kdump_tools("USE_KDUMP=0\nKDUMP_COREDIR=crash\nKDUMP_FAIL_CMD=\"/bin/sh\"\n"
                              "KDUMP_FAIL_CMD2=x\nKDUMP_NUM_DUMPS=all\nKDUMP_DUMP_DMESG=0\n"
                              "NFS=server:/export\nKDUMP_CMDLINE=\"root=/dev/sda1\"\n"
                              "KDUMP_KEXEC_ARGS=\"--append=x\"\nMAKEDUMP_ARGS=\"-d 99\"\n"
                              "KDUMP_FAIL_CMD=/sbin/halt\n",
                              "kt");
  CHECK(strs(r.unmapped) ==
        V{"kt:1: USE_KDUMP=0: kdump was disabled; crashkit is switched on and off with systemctl",
          "kt:2: KDUMP_COREDIR=crash: path must be absolute, not 'crash'",
          "kt:4: KDUMP_FAIL_CMD2=x: no crashkit equivalent",
          "kt:5: KDUMP_NUM_DUMPS=all: keep_dumps needs a whole number (0 keeps all), not 'all'",
          "kt:6: KDUMP_DUMP_DMESG=0: crashkit always saves the kernel log first",
          "kt:7: NFS=server:/export: network targets are not supported yet",
          "kt:8: KDUMP_CMDLINE=\"root=/dev/sda1\": crashkit starts from /proc/cmdline; express "
          "changes with append/remove",
          "kt:9: KDUMP_KEXEC_ARGS=\"--append=x\": crashkit takes no extra kexec arguments",
          "kt:10: MAKEDUMP_ARGS=\"-d 99\": core_collector: dump level '99' is not a number 0-31"});
  // The second KDUMP_FAIL_CMD replaced the first, and halt maps.
  CHECK(r.config.failure_action.value == Action::halt);
  CHECK(r.config.failure_action.origin.line == 11);
  check_renders_valid(r);
}

TEST_CASE("import: render_import lists what was left behind", "[import]") {
  auto r = import_kdump_tools("SSH=a@b\nKDUMP_NUM_DUMPS=2\n", "kt");
  CHECK(render_import(r, {"kt"}) == "# crashkit.conf imported from kt\n"
                                    "#\n"
                                    "# Not carried over:\n"
                                    "#   kt:1: SSH=a@b: network targets are not supported yet\n"
                                    "\n"
                                    "keep_dumps 2\n");
}
