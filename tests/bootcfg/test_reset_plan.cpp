#include <catch2/catch.hpp>

#include "crashkit/bootcfg/reset_plan.hpp"
#include "tree.hpp"

using namespace crashkit;
using namespace crashkit::bootcfg;
using bootcfg_test::Tree;
using Argv = std::vector<std::string>;

namespace {

conf::CrashkernelSetting ck(std::string_view v) {
  auto r = resolve_crashkernel_value(v, "");
  REQUIRE(r);
  return *r;
}

ResetPlan plan(const Tree& t, std::string_view value, std::string kernel = "ALL",
               std::optional<bool> grubby = std::nullopt) {
  ResetRequest req;
  req.root = t.root();
  req.kernel = std::move(kernel);
  req.setting = ck(value);
  req.use_grubby = grubby;
  auto r = plan_reset(req);
  if (!r)
    FAIL(r.error().message());
  return std::move(*r);
}

// Applies the plan and checks that planning again finds nothing to do.
void apply_and_recheck(const Tree& t, const ResetPlan& p, std::string_view value,
                       std::string kernel = "ALL") {
  REQUIRE(apply_plan(p));
  ResetPlan again = plan(t, value, std::move(kernel));
  CHECK(again.edits.empty());
  CHECK(again.commands.empty());
  CHECK_THAT(format_plan(again), Catch::StartsWith("no change needed\n"));
}

const std::string kDebianGrub = R"(# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Debian} ) 2>/dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX="console=ttyS0,115200n8  net.ifnames=0"

# Uncomment to disable graphical terminal
#GRUB_TERMINAL=console
)";

const std::string kFedoraGrub =
    "GRUB_TIMEOUT=5\n"
    "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
    "GRUB_DEFAULT=saved\n"
    "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"
    "GRUB_ENABLE_BLSCFG=true\n";

std::string bls(const std::string& version, const std::string& options) {
  return "title Fedora Linux (" + version + ") 40 (Forty)\nversion " + version +
         "\nlinux /vmlinuz-" + version + "\ninitrd /initramfs-" + version + ".img\noptions " +
         options +
         "\ngrub_users $grub_users\ngrub_arg --unrestricted\n"
         "grub_class fedora\n";
}

constexpr const char* kOld = "6.8.5-301.fc40.x86_64";
constexpr const char* kNew = "6.9.7-200.fc40.x86_64";
constexpr const char* kRescue = "0-rescue-4f8a";
const std::string kOpts = "root=UUID=2d1c3f4e ro rootflags=subvol=root rhgb quiet";

void fedora(const Tree& t) {
  t.write("/etc/default/grub", kFedoraGrub);
  t.write("/boot/loader/entries/4f8a-6.8.5-301.fc40.x86_64.conf",
          bls(kOld, kOpts + " crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"));
  t.write("/boot/loader/entries/4f8a-6.9.7-200.fc40.x86_64.conf", bls(kNew, kOpts));
  t.write("/boot/loader/entries/4f8a-0-rescue.conf", bls(kRescue, kOpts));
  t.write("/boot/grub2/grub.cfg", "blscfg\n");
  t.program("/usr/sbin/grubby");
  t.program("/usr/sbin/grub2-mkconfig");
}

} // namespace

TEST_CASE("Debian: GRUB_CMDLINE_LINUX then update-grub", "[plan]") {
  Tree t;
  t.write("/etc/default/grub", kDebianGrub, 0640);
  t.write("/etc/default/grub.d/kdump-tools.cfg",
          "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=512M-:192M\"\n");
  t.write("/boot/grub/grub.cfg", "");
  t.program("/usr/sbin/update-grub");
  t.program("/usr/sbin/grub-mkconfig");

  ResetPlan p = plan(t, "2G-4G:320M,4G-32G:512M");
  CHECK(p.sources == std::vector<std::string>{"/etc/default/grub"});
  REQUIRE(p.edits.size() == 1);
  std::string want = kDebianGrub;
  std::string old_line = "GRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8  net.ifnames=0\"";
  want.replace(want.find(old_line), old_line.size(),
               "GRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8  net.ifnames=0 "
               "crashkernel=2G-4G:320M,4G-32G:512M\"");
  CHECK(p.edits[0].new_text == want);
  REQUIRE(p.commands.size() == 1);
  CHECK(p.commands[0].argv == Argv{"/usr/sbin/update-grub"});
  CHECK(p.commands[0].skip_reason == "--root: run it inside that system");
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0] == "/etc/default/grub.d/kdump-tools.cfg:1: sets crashkernel= too and is read "
                      "after /etc/default/grub; not changed, remove it by hand if it conflicts");
  CHECK(format_plan(p) == "--- /etc/default/grub\n+++ /etc/default/grub\n@@ -10,1 +10,1 @@\n"
                          "-GRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8  net.ifnames=0\"\n"
                          "+GRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8  net.ifnames=0 "
                          "crashkernel=2G-4G:320M,4G-32G:512M\"\n"
                          "not run (--root: run it inside that system): /usr/sbin/update-grub\n"
                          "note: " +
                              p.notes[0] + "\n");

  apply_and_recheck(t, p, "2G-4G:320M,4G-32G:512M");
  CHECK(t.read("/etc/default/grub") == want);
  CHECK(t.read("/etc/default/grub.crashkit-bak") == kDebianGrub);
  CHECK(t.mode("/etc/default/grub") == 0640);
  CHECK(t.mode("/etc/default/grub.crashkit-bak") == 0640);
  CHECK_FALSE(t.exists("/etc/default/grub.incomplete"));
}

TEST_CASE("Fedora BLS: every entry, only the crashkernel word changes", "[plan]") {
  Tree t;
  fedora(t);
  ResetPlan p = plan(t, "2G-64G:256M,64G-:512M");
  CHECK(p.sources ==
        std::vector<std::string>{"BLS entries in /boot/loader/entries (3)", "/etc/default/grub"});
  // with --root grubby is not used even though it is installed
  CHECK(p.commands.empty());
  REQUIRE(p.edits.size() == 4);
  CHECK(p.edits[0].shown_path == "/boot/loader/entries/4f8a-0-rescue.conf");
  CHECK(p.edits[0].new_text == bls(kRescue, kOpts + " crashkernel=2G-64G:256M,64G-:512M"));
  CHECK(p.edits[1].new_text == bls(kOld, kOpts + " crashkernel=2G-64G:256M,64G-:512M"));
  CHECK(p.edits[2].new_text == bls(kNew, kOpts + " crashkernel=2G-64G:256M,64G-:512M"));
  CHECK(p.edits[3].shown_path == "/etc/default/grub");
  CHECK(p.edits[3].new_text.find("GRUB_CMDLINE_LINUX=\"rhgb quiet "
                                 "crashkernel=2G-64G:256M,64G-:512M\"\n") != std::string::npos);
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0] ==
        "grub.cfg reads the BLS entries (GRUB_ENABLE_BLSCFG=true); it is not regenerated");
  apply_and_recheck(t, p, "2G-64G:256M,64G-:512M");
  CHECK(t.read("/boot/loader/entries/4f8a-0-rescue.conf.crashkit-bak") == bls(kRescue, kOpts));
}

TEST_CASE("kernel selection edits only that entry, one-line files get a note", "[plan]") {
  Tree t;
  fedora(t);
  t.write("/etc/kernel/cmdline", kOpts + "\n");
  ResetPlan p = plan(t, "256M", kNew);
  REQUIRE(p.edits.size() == 3);
  CHECK(p.edits[0].shown_path == "/boot/loader/entries/4f8a-6.9.7-200.fc40.x86_64.conf");
  CHECK(p.edits[0].new_text == bls(kNew, kOpts + " crashkernel=256M"));
  CHECK(p.edits[1].shown_path == "/etc/kernel/cmdline");
  CHECK(p.edits[1].new_text == kOpts + " crashkernel=256M\n");
  CHECK(p.edits[2].shown_path == "/etc/default/grub");
  CHECK(std::count(p.notes.begin(), p.notes.end(),
                   "/etc/kernel/cmdline holds one command line for every kernel; --kernel " +
                       std::string(kNew) + " does not apply to it") == 1);
  CHECK(std::count(p.notes.begin(), p.notes.end(),
                   "/etc/default/grub holds one command line for every kernel; --kernel " +
                       std::string(kNew) + " does not apply to it") == 1);
  apply_and_recheck(t, p, "256M", kNew);
  // the other entries are untouched, no backup made for them
  CHECK(t.read("/boot/loader/entries/4f8a-6.8.5-301.fc40.x86_64.conf") ==
        bls(kOld, kOpts + " crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"));
  CHECK_FALSE(t.exists("/boot/loader/entries/4f8a-6.8.5-301.fc40.x86_64.conf.crashkit-bak"));

  // a kernel path is accepted too, and an entry already right is left alone
  ResetPlan q = plan(t, "256M", std::string("/boot/vmlinuz-") + kOld);
  REQUIRE(q.edits.size() == 1);
  CHECK(q.edits[0].new_text == bls(kOld, kOpts + " crashkernel=256M"));
}

TEST_CASE("kernel selection without an entry is an error naming the versions", "[plan]") {
  Tree t;
  fedora(t);
  ResetRequest req;
  req.root = t.root();
  req.kernel = "5.14.0";
  req.setting = ck("256M");
  auto r = plan_reset(req);
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::no_input);
  CHECK(r.error().message() ==
        "/boot/loader/entries: no boot entry for kernel 5.14.0 (entries are for: " +
            std::string(kRescue) + ", " + kOld + ", " + kNew + ")");
}

TEST_CASE("/etc/kernel/cmdline alone", "[plan]") {
  Tree t;
  t.write("/etc/kernel/cmdline", "root=/dev/vda1 ro  quiet\n", 0600);
  ResetPlan p = plan(t, "crashkernel=256M,high crashkernel=72M,low");
  REQUIRE(p.edits.size() == 1);
  CHECK(p.edits[0].new_text ==
        "root=/dev/vda1 ro  quiet crashkernel=256M,high crashkernel=72M,low\n");
  CHECK(p.commands.empty());
  CHECK(p.notes.empty());
  apply_and_recheck(t, p, "crashkernel=256M,high crashkernel=72M,low");
  CHECK(t.mode("/etc/kernel/cmdline") == 0600);
}

TEST_CASE("mixed tree: BLS, kernel-install and grub without blscfg", "[plan]") {
  Tree t;
  t.write("/boot/loader/entries/a.conf", "title A\nversion 6.1\noptions root=/dev/sda2 rw\n");
  t.write("/etc/kernel/cmdline", "root=/dev/sda2 rw");
  t.write("/etc/default/grub", "GRUB_CMDLINE_LINUX='crashkernel=128M'\n");
  t.program("/usr/bin/grub-mkconfig");
  ResetPlan p = plan(t, "192M");
  REQUIRE(p.edits.size() == 3);
  CHECK(p.edits[0].new_text ==
        "title A\nversion 6.1\noptions root=/dev/sda2 rw crashkernel=192M\n");
  CHECK(p.edits[1].new_text == "root=/dev/sda2 rw crashkernel=192M");
  CHECK(p.edits[2].new_text == "GRUB_CMDLINE_LINUX='crashkernel=192M'\n");
  REQUIRE(p.commands.size() == 1);
  CHECK(p.commands[0].argv == Argv{"/usr/bin/grub-mkconfig", "-o", "/boot/grub/grub.cfg"});
  apply_and_recheck(t, p, "192M");

  SECTION("removal") {
    ResetPlan r = plan(t, "off");
    REQUIRE(r.edits.size() == 3);
    CHECK(r.edits[0].new_text == "title A\nversion 6.1\noptions root=/dev/sda2 rw\n");
    CHECK(r.edits[1].new_text == "root=/dev/sda2 rw");
    CHECK(r.edits[2].new_text == "GRUB_CMDLINE_LINUX=''\n");
    apply_and_recheck(t, r, "off");
    // the backups still hold the texts from before the first change
    CHECK(t.read("/etc/default/grub.crashkit-bak") == "GRUB_CMDLINE_LINUX='crashkernel=128M'\n");
    CHECK(t.read("/etc/kernel/cmdline.crashkit-bak") == "root=/dev/sda2 rw");
  }
}

TEST_CASE("grub2-mkconfig for a grub2 layout without BLS, none found is a note", "[plan]") {
  Tree t;
  t.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"\"\n");
  SECTION("grub2") {
    t.write("/boot/grub2/grub.cfg", "");
    t.program("/usr/sbin/grub2-mkconfig");
    t.program("/usr/sbin/update-grub");
    ResetPlan p = plan(t, "256M");
    REQUIRE(p.commands.size() == 1);
    CHECK(p.commands[0].argv == Argv{"/usr/sbin/grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"});
  }
  SECTION("nothing") {
    ResetPlan p = plan(t, "256M");
    CHECK(p.commands.empty());
    REQUIRE(p.notes.size() == 1);
    CHECK(p.notes[0] == "no update-grub, grub-mkconfig or grub2-mkconfig found: regenerate "
                        "grub.cfg from /etc/default/grub yourself");
  }
}

TEST_CASE("grubby argv when grubby is used", "[plan]") {
  Tree t;
  fedora(t);
  t.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"\"\nGRUB_ENABLE_BLSCFG=true\n");
  SECTION("one word, all kernels") {
    ResetPlan p = plan(t, "256M", "ALL", true);
    REQUIRE(p.commands.size() == 1);
    CHECK(p.commands[0].argv ==
          Argv{"/usr/sbin/grubby", "--update-kernel=ALL", "--args=crashkernel=256M"});
    CHECK(p.commands[0].skip_reason == "--root: run it inside that system");
    // the BLS entries are left to grubby; /etc/default/grub is still edited
    REQUIRE(p.edits.size() == 1);
    CHECK(p.edits[0].shown_path == "/etc/default/grub");
  }
  SECTION("high and low words, one kernel") {
    ResetPlan p = plan(t, "256M,high 72M,low", kNew, true);
    REQUIRE(p.commands.size() == 2);
    CHECK(p.commands[0].argv == Argv{"/usr/sbin/grubby",
                                     "--update-kernel=/boot/vmlinuz-" + std::string(kNew),
                                     "--remove-args=crashkernel"});
    CHECK(p.commands[1].argv == Argv{"/usr/sbin/grubby",
                                     "--update-kernel=/boot/vmlinuz-" + std::string(kNew),
                                     "--args=crashkernel=256M,high crashkernel=72M,low"});
    CHECK_THAT(format_plan(p),
               Catch::Contains("/usr/sbin/grubby --update-kernel=/boot/vmlinuz-" +
                               std::string(kNew) +
                               " '--args=crashkernel=256M,high crashkernel=72M,low'\n"));
  }
  SECTION("removal") {
    ResetPlan p = plan(t, "off", "ALL", true);
    REQUIRE(p.commands.size() == 1);
    CHECK(p.commands[0].argv ==
          Argv{"/usr/sbin/grubby", "--update-kernel=ALL", "--remove-args=crashkernel"});
  }
  SECTION("already set: no command") {
    ResetPlan p = plan(t, "1G-4G:192M,4G-64G:256M,64G-:512M", kOld, true);
    CHECK(p.commands.empty());
  }
}

TEST_CASE("dry run marks the commands", "[plan]") {
  Tree t;
  t.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"\"\n");
  t.program("/usr/sbin/update-grub");
  ResetRequest req;
  req.root = t.root();
  req.setting = ck("256M");
  req.dry_run = true;
  auto p = plan_reset(req);
  REQUIRE(p);
  REQUIRE(p->commands.size() == 1);
  CHECK(p->commands[0].skip_reason == "dry run");
}

TEST_CASE("refusals and missing configuration", "[plan]") {
  Tree t;
  ResetRequest req;
  req.root = t.root();
  req.setting = ck("256M");
  auto none = plan_reset(req);
  REQUIRE_FALSE(none);
  CHECK(none.error().category() == ErrorCategory::no_input);
  CHECK(none.error().message() == t.root() + ": no boot configuration found (looked for "
                                             "/boot/loader/entries/*.conf, /etc/kernel/cmdline, "
                                             "/etc/default/grub)");

  t.write("/etc/default/grub", "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"$(cat /etc/cmdline)\"\n");
  auto bad = plan_reset(req);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().category() == ErrorCategory::unsupported);
  CHECK(bad.error().message() == "/etc/default/grub:2: GRUB_CMDLINE_LINUX: variable expansion or "
                                 "command substitution ($) in the value; edit it by hand");

  req.root = t.path("/missing");
  auto nodir = plan_reset(req);
  REQUIRE_FALSE(nodir);
  CHECK(nodir.error().message() == t.path("/missing") + ": not a directory (--root)");
}

TEST_CASE("apply refuses a file changed since planning, and symlinks", "[plan]") {
  Tree t;
  t.write("/etc/kernel/cmdline", "quiet\n");
  ResetPlan p = plan(t, "256M");
  t.write("/etc/kernel/cmdline", "quiet splash\n");
  auto r = apply_plan(p);
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::data);
  CHECK(r.error().message() ==
        t.path("/etc/kernel/cmdline") + ": changed since the edit was planned; run again");
  CHECK(t.read("/etc/kernel/cmdline") == "quiet splash\n");
  CHECK_FALSE(t.exists("/etc/kernel/cmdline.crashkit-bak"));

  t.write("/etc/kernel/real", "quiet\n");
  std::filesystem::remove(t.path("/etc/kernel/cmdline"));
  std::filesystem::create_symlink("real", t.path("/etc/kernel/cmdline"));
  ResetPlan s = plan(t, "256M");
  REQUIRE(s.edits.size() == 1);
  auto rs = apply_plan(s);
  REQUIRE_FALSE(rs);
  CHECK(rs.error().message() ==
        t.path("/etc/kernel/cmdline") + ": is a symbolic link; edit its target by hand");
}

TEST_CASE("the backup keeps the first original", "[plan]") {
  Tree t;
  t.write("/etc/kernel/cmdline", "ro crashkernel=128M\n");
  REQUIRE(apply_plan(plan(t, "256M")));
  REQUIRE(apply_plan(plan(t, "512M")));
  CHECK(t.read("/etc/kernel/cmdline") == "ro crashkernel=512M\n");
  CHECK(t.read("/etc/kernel/cmdline.crashkit-bak") == "ro crashkernel=128M\n");
  // a stale temporary file from an interrupted run does not block the next one
  t.write("/etc/kernel/cmdline.incomplete", "junk");
  REQUIRE(apply_plan(plan(t, "off")));
  CHECK(t.read("/etc/kernel/cmdline") == "ro\n");
  CHECK_FALSE(t.exists("/etc/kernel/cmdline.incomplete"));
}

TEST_CASE("the value: explicit, default, off, invalid", "[plan]") {
  auto d = resolve_crashkernel_value(std::nullopt, "2G-64G:256M,64G-:512M");
  REQUIRE(d);
  CHECK(conf::format_crashkernel(*d) == "crashkernel=2G-64G:256M,64G-:512M");
  auto e = resolve_crashkernel_value("crashkernel=192M", "2G-:256M");
  REQUIRE(e);
  CHECK(conf::format_crashkernel(*e) == "crashkernel=192M");
  auto off = resolve_crashkernel_value("off", "2G-:256M");
  REQUIRE(off);
  CHECK(off->words.empty());
  auto bad = resolve_crashkernel_value("256Q", "2G-:256M");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().category() == ErrorCategory::usage);
  CHECK_THAT(bad.error().message(), Catch::StartsWith("--value: crashkernel \"256Q\""));
  auto empty = resolve_crashkernel_value(std::nullopt, "");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message() ==
        "default crashkernel value is empty (use \"off\" to remove crashkernel=)");
}

TEST_CASE("diff of a multi-line change", "[plan]") {
  FileEdit e{"/x", "/etc/x", "a\nb\nc\nd\n", "a\nB\nc\nD\n"};
  CHECK(format_diff(e) ==
        "--- /etc/x\n+++ /etc/x\n@@ -2,1 +2,1 @@\n-b\n+B\n@@ -4,1 +4,1 @@\n-d\n+D\n");
  FileEdit add{"/x", "/etc/x", "a\n", "a\nb\n"};
  CHECK(format_diff(add) == "--- /etc/x\n+++ /etc/x\n@@ -1,0 +2,1 @@\n+b\n");
  CHECK(format_diff({"/x", "/x", "same", "same"}).empty());
}

TEST_CASE("owner and mode are kept", "[plan][root]") {
  INFO("run as root: only root can give the file to another owner");
  REQUIRE(::geteuid() == 0);
  Tree t;
  t.write("/etc/kernel/cmdline", "ro\n", 0604);
  REQUIRE(::chown(t.path("/etc/kernel/cmdline").c_str(), 1234, 5678) == 0);
  REQUIRE(apply_plan(plan(t, "256M")));
  for (const char* f : {"/etc/kernel/cmdline", "/etc/kernel/cmdline.crashkit-bak"}) {
    struct stat st {};
    REQUIRE(::stat(t.path(f).c_str(), &st) == 0);
    CHECK(st.st_uid == 1234);
    CHECK(st.st_gid == 5678);
    CHECK((st.st_mode & 07777) == 0604);
  }
}

TEST_CASE("an unprivileged caller's edit keeps the mode and its own ownership", "[plan][nonroot]") {
  INFO("run as an unprivileged user (ctest's bootcfg.unprivileged does it with setpriv)");
  REQUIRE(::geteuid() != 0);
  Tree t;
  t.write("/etc/kernel/cmdline", "ro\n", 0604);
  REQUIRE(apply_plan(plan(t, "256M")));
  CHECK(t.read("/etc/kernel/cmdline") == "ro crashkernel=256M\n");
  for (const char* f : {"/etc/kernel/cmdline", "/etc/kernel/cmdline.crashkit-bak"}) {
    INFO(f);
    struct stat st {};
    REQUIRE(::stat(t.path(f).c_str(), &st) == 0);
    CHECK(st.st_uid == ::geteuid());
    CHECK(st.st_gid == ::getegid());
    CHECK((st.st_mode & 07777) == 0604);
  }
}
