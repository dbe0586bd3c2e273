#include <catch2/catch.hpp>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include <archive.h>
#include <archive_entry.h>

#include <map>

#include "crashkit/conf/config_parser.hpp"
#include "crashkit/initramfs/builder.hpp"
#include "crashkit/initramfs/sha256.hpp"
#include "fixtures.hpp"

using namespace crashkit;
using namespace crashkit::initramfs;
using namespace ckt;
using V = std::vector<std::string>;

namespace {

constexpr const char* kUuid = "0b5e1b2e-1c4e-4c49-9a9e-4b2f0a6f1d01";

struct ReadEntry {
  mode_t mode = 0;
  std::int64_t uid = -1, gid = -1, mtime = -1;
  unsigned rdev_major = 0, rdev_minor = 0;
  std::string data;
};

struct ReadArchive {
  std::vector<std::string> order;
  std::map<std::string, ReadEntry> entries;
  int filter = -1;
  int format = -1;
};

ReadArchive read_archive(const std::string& bytes) {
  ReadArchive out;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_cpio(a);
  REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    ReadEntry re;
    re.mode = archive_entry_mode(e);
    re.uid = archive_entry_uid(e);
    re.gid = archive_entry_gid(e);
    re.mtime = archive_entry_mtime(e);
    re.rdev_major = static_cast<unsigned>(archive_entry_rdevmajor(e));
    re.rdev_minor = static_cast<unsigned>(archive_entry_rdevminor(e));
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      re.data.append(buf, static_cast<std::size_t>(n));
    REQUIRE(n == 0);
    out.order.push_back(archive_entry_pathname(e));
    out.entries[archive_entry_pathname(e)] = re;
  }
  REQUIRE(r == ARCHIVE_EOF);
  out.filter = archive_filter_code(a, 0);
  out.format = archive_format(a);
  archive_read_free(a);
  return out;
}

/// A complete system tree: config, capture program, libraries, modules, a hook; a fake sysfs
/// with the target's virtio disk.
struct Tree {
  TempDir t;
  std::string root;
  BuildRequest req;

  Tree() {
    root = t.dir.string();
    // The kdump_pre hook must be root-owned to be accepted, so these cases need root.
    INFO("run as root: the tree's kdump_pre hook must be owned by root");
    REQUIRE(::geteuid() == 0);
    INFO("the fake module tree needs depmod (kmod), gcc and xz (xz-utils)");
    REQUIRE(have("depmod"));
    REQUIRE(have("gcc"));
    REQUIRE(have("xz"));
    add_true_and_libs(t.dir);
    fs::create_directories((t.dir / installed_capture_binary().substr(1)).parent_path());
    fs::copy_file(t.dir / "bin/true", t.dir / installed_capture_binary().substr(1));
    add_fake_modules(t.dir);
    add_fake_sysfs(t.dir / "sys", 254, 17);
    put(t.dir / "usr/local/bin/pre-hook", slurp(t.dir / "bin/true"), 0755);
    write_config(std::string("ext4 UUID=") + kUuid +
                 "\npath /dumps\nextra_modules sd_mod loop\n"
                 "kdump_pre /usr/local/bin/pre-hook --flag\n");
    req.root = root;
    req.kernel = kKver;
    req.system.sysfs = (t.dir / "sys").string();
    req.system.proc = (t.dir / "proc").string();
    req.system.evaluate_tag = [](const conf::DeviceRef& ref) -> Result<std::string> {
      if (ref.value == kUuid)
        return std::string("/dev/vdb1");
      return Error(ErrorCategory::no_input, "no device with " + ref.str());
    };
    req.zstd_level = 3;
  }
  void write_config(const std::string& text) { put(t.dir / "etc/crashkit/crashkit.conf", text); }
  conf::Config config() const {
    auto p = conf::load_config(root);
    INFO(p.error_text());
    REQUIRE(p.ok());
    return p.config;
  }
};

} // namespace

TEST_CASE("image: newc + zstd, every entry 0:0 at mtime 0, the contract's layout", "[image]") {
  Tree tree;
  auto plan = plan_image(tree.req, tree.config());
  INFO((plan ? "" : plan.error().message()));
  REQUIRE(plan);
  const std::string out = tree.root + "/out/capture.img";
  auto size = write_image(*plan, out, tree.req.zstd_level, false);
  REQUIRE(size);
  const std::string bytes = slurp(out);
  CHECK(bytes.size() == *size);
  CHECK(bytes.compare(0, 4, "\x28\xb5\x2f\xfd") == 0); // zstd frame magic
  // The kernel allocates the frame's window to unpack it: at most 1 MiB (an 8 MiB window ran a
  // 96M capture kernel out of memory).
  ZSTD_frameHeader fh{};
  REQUIRE(ZSTD_getFrameHeader(&fh, bytes.data(), bytes.size()) == 0);
  CHECK(fh.windowSize <= (1u << 20));
  auto ar = read_archive(bytes);
  CHECK(ar.filter == ARCHIVE_FILTER_ZSTD);
  CHECK(ar.format == ARCHIVE_FORMAT_CPIO_SVR4_NOCRC); // newc

  const std::string kmods = std::string("lib/modules/") + kKver + "/";
  CHECK(ar.order == V{"dev",
                      "dev/console",
                      "etc",
                      "etc/crashkit",
                      "etc/crashkit/crashkit.conf",
                      "etc/crashkit/hooks",
                      "etc/crashkit/hooks/pre",
                      "etc/crashkit/modules.load",
                      "init",
                      "lib",
                      "lib/modules",
                      "lib/modules/" + std::string(kKver),
                      kmods + "kernel",
                      kmods + "kernel/crypto",
                      kmods + "kernel/crypto/crc32c_generic.ko",
                      kmods + "kernel/drivers",
                      kmods + "kernel/drivers/block",
                      kmods + "kernel/drivers/block/virtio_blk.ko",
                      kmods + "kernel/drivers/scsi",
                      kmods + "kernel/drivers/scsi/sd_mod.ko",
                      kmods + "kernel/drivers/virtio",
                      kmods + "kernel/drivers/virtio/virtio.ko",
                      kmods + "kernel/drivers/virtio/virtio_pci.ko",
                      kmods + "kernel/drivers/virtio/virtio_ring.ko",
                      kmods + "kernel/fs",
                      kmods + "kernel/fs/ext4",
                      kmods + "kernel/fs/ext4/ext4.ko",
                      kmods + "kernel/fs/jbd2",
                      kmods + "kernel/fs/jbd2/jbd2.ko",
                      kmods + "kernel/fs/mbcache.ko",
                      "lib/x86_64-linux-gnu",
                      "lib/x86_64-linux-gnu/libc.so.6",
                      "lib64",
                      "lib64/ld-linux-x86-64.so.2",
                      "mnt",
                      "proc",
                      "run",
                      "sys",
                      "tmp"});
  for (const auto& [path, e] : ar.entries) {
    INFO(path);
    CHECK(e.uid == 0);
    CHECK(e.gid == 0);
    CHECK(e.mtime == 0);
  }
  const auto& init = ar.entries.at("init");
  CHECK(S_ISREG(init.mode));
  CHECK((init.mode & 07777) == 0755);
  CHECK(init.data == slurp("/bin/true"));
  CHECK((ar.entries.at("lib64/ld-linux-x86-64.so.2").mode & 0111) != 0);
  CHECK(ar.entries.at("lib/x86_64-linux-gnu/libc.so.6").data ==
        slurp("/lib/x86_64-linux-gnu/libc.so.6"));
  CHECK(S_ISDIR(ar.entries.at("etc/crashkit").mode));
  CHECK((ar.entries.at("tmp").mode & 07777) == 01777);
  const auto& console = ar.entries.at("dev/console");
  CHECK(S_ISCHR(console.mode));
  CHECK(console.rdev_major == 5);
  CHECK(console.rdev_minor == 1);

  const std::string k = std::string("/lib/modules/") + kKver + "/kernel/";
  CHECK(ar.entries.at("etc/crashkit/modules.load").data ==
        k + "drivers/virtio/virtio.ko\n" + k + "drivers/virtio/virtio_ring.ko\n" + k +
            "drivers/virtio/virtio_pci.ko\n" + k + "drivers/block/virtio_blk.ko\n" + k +
            "crypto/crc32c_generic.ko\n" + k + "fs/mbcache.ko\n" + k + "fs/jbd2/jbd2.ko\n" + k +
            "fs/ext4/ext4.ko\n" + k + "drivers/scsi/sd_mod.ko\n");
  // Compressed modules are stored decompressed (the capture init uses a bare finit_module):
  // an ELF object, not the xz file.
  const auto& mb = ar.entries.at(kmods + "kernel/fs/mbcache.ko").data;
  CHECK(mb.compare(0, 4,
                   "\x7f"
                   "ELF") == 0);
  CHECK(mb != slurp(tree.t.dir / kmods / "kernel/fs/mbcache.ko.xz"));
  CHECK(ar.entries.count(kmods + "kernel/fs/mbcache.ko.xz") == 0);
  CHECK(ar.entries.at("etc/crashkit/crashkit.conf").data == conf::render_config(tree.config()));
  CHECK_THAT(ar.entries.at("etc/crashkit/crashkit.conf").data,
             Catch::Contains(std::string("UUID=") + kUuid));
  CHECK(ar.entries.at("etc/crashkit/hooks/pre").data ==
        slurp(tree.t.dir / "usr/local/bin/pre-hook"));
  CHECK((ar.entries.at("etc/crashkit/hooks/pre").mode & 07777) == 0755);

  // The manifest beside it hashes every file by its in-image path.
  auto m = Manifest::parse(slurp(manifest_path(out)), manifest_path(out));
  REQUIRE(m);
  CHECK(m->kernel == kKver);
  CHECK(m->files.size() == 15);
  CHECK(m->files.count("/init") == 1);
  CHECK(m->files.count(std::string("/lib/modules/") + kKver + "/kernel/fs/ext4/ext4.ko") == 1);
  CHECK(m->image_sha256 == sha256_hex(bytes));
  CHECK(m->config_sha256 == sha256_hex(conf::render_config(tree.config())));
}

TEST_CASE("image: identical inputs give identical bytes", "[image]") {
  Tree tree;
  tree.req.zstd_level = 19;
  auto a = plan_image(tree.req, tree.config());
  REQUIRE(a);
  REQUIRE(write_image(*a, tree.root + "/a.img", 19, false));
  // Touch every input's mtime: content is all that counts.
  sh("find '" + tree.root + "' -type f -exec touch -d '2030-01-01' {} +");
  auto b = plan_image(tree.req, tree.config());
  REQUIRE(b);
  REQUIRE(write_image(*b, tree.root + "/b.img", 19, false));
  CHECK(slurp(tree.root + "/a.img") == slurp(tree.root + "/b.img"));
  CHECK(a->manifest.to_json() == b->manifest.to_json());
}

TEST_CASE("image: staleness, force_rebuild, force_no_rebuild, --force", "[image][manifest]") {
  Tree tree;
  const std::string image = default_image_path(tree.root, kKver);

  auto first = rebuild_if_needed(tree.req, tree.config(), false);
  INFO((first ? "" : first.error().message()));
  REQUIRE(first);
  CHECK(first->rebuilt);
  CHECK(first->reason == "no image yet");
  CHECK(first->image == image);
  struct stat st {};
  REQUIRE(::stat((tree.root + "/var/lib/crashkit").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(::stat(image.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  auto second = rebuild_if_needed(tree.req, tree.config(), false);
  REQUIRE(second);
  CHECK_FALSE(second->rebuilt);
  CHECK(second->reason.empty());

  SECTION("a config change makes it stale") {
    tree.write_config(std::string("ext4 UUID=") + kUuid +
                      "\npath /dumps\nkeep_dumps 3\n"
                      "extra_modules sd_mod loop\nkdump_pre /usr/local/bin/pre-hook --flag\n");
    Manifest fresh = plan_image(tree.req, tree.config())->manifest;
    CHECK(is_stale(image, fresh).value());
    auto r = rebuild_if_needed(tree.req, tree.config(), false);
    REQUIRE(r);
    CHECK(r->rebuilt);
    CHECK(r->reason == "configuration changed");
    CHECK_FALSE(is_stale(image, fresh).value());
  }
  SECTION("a changed module or hook makes it stale, naming the file") {
    put(tree.t.dir / "usr/local/bin/pre-hook", slurp(tree.t.dir / "bin/true") + "x", 0755);
    auto r = rebuild_if_needed(tree.req, tree.config(), false);
    REQUIRE(r);
    CHECK(r->reason == "file /etc/crashkit/hooks/pre changed");
  }
  SECTION("another kernel version") {
    Manifest fresh = plan_image(tree.req, tree.config())->manifest;
    fresh.kernel = "6.1.0-100-fake";
    CHECK(stale_reason(image, fresh).value() ==
          std::string("kernel ") + kKver + " → 6.1.0-100-fake");
  }
  SECTION("a crashkit program changed") {
    put(tree.t.dir / "crashkit", "v1");
    tree.req.tool_binaries = {(tree.t.dir / "crashkit").string()};
    REQUIRE(rebuild_if_needed(tree.req, tree.config(), false)->rebuilt);
    CHECK_FALSE(rebuild_if_needed(tree.req, tree.config(), false)->rebuilt);
    put(tree.t.dir / "crashkit", "v2");
    auto r = rebuild_if_needed(tree.req, tree.config(), false);
    CHECK(r->reason == "program " + (tree.t.dir / "crashkit").string() + " changed");
  }
  SECTION("an image that is not the one the manifest describes") {
    put(image, "garbage", 0600);
    auto r = rebuild_if_needed(tree.req, tree.config(), false);
    REQUIRE(r);
    CHECK(r->reason == "the image is not the one the manifest describes");
  }
  SECTION("no manifest") {
    fs::remove(manifest_path(image));
    CHECK(rebuild_if_needed(tree.req, tree.config(), false)->reason ==
          "no manifest beside the image");
  }
  SECTION("force_rebuild and --force rebuild an up-to-date image") {
    auto r = rebuild_if_needed(tree.req, tree.config(), true);
    CHECK(r->rebuilt);
    CHECK(r->reason == "--force");
    tree.write_config(std::string("ext4 UUID=") + kUuid +
                      "\npath /dumps\nextra_modules sd_mod loop\nforce_rebuild yes\n"
                      "kdump_pre /usr/local/bin/pre-hook --flag\n");
    r = rebuild_if_needed(tree.req, tree.config(), false);
    CHECK(r->rebuilt);
    CHECK_THAT(r->reason, Catch::StartsWith("force_rebuild set at " + tree.root));
  }
  SECTION("force_no_rebuild keeps a stale image even when its target is not found") {
    tree.write_config("ext4 UUID=gone\nforce_no_rebuild yes\n");
    auto r = rebuild_if_needed(tree.req, tree.config(), false);
    REQUIRE(r);
    CHECK_FALSE(r->rebuilt);
    CHECK_THAT(r->reason, Catch::StartsWith("force_no_rebuild set at " + tree.root));
    auto forced = rebuild_if_needed(tree.req, tree.config(), true);
    REQUIRE_FALSE(forced);
    CHECK(forced.error().message() == "dump target UUID=gone: no device with UUID=gone");
  }
}

TEST_CASE("image: hooks must be root-owned and not group/world-writable", "[image][hooks]") {
  Tree tree;
  const fs::path hook = tree.t.dir / "usr/local/bin/pre-hook";
  SECTION("group-writable") {
    ::chmod(hook.c_str(), 0775);
    auto r = plan_image(tree.req, tree.config());
    REQUIRE_FALSE(r);
    CHECK(r.error().message() ==
          tree.root +
              "/etc/crashkit/crashkit.conf:4: kdump_pre /usr/local/bin/pre-hook: "
              "refusing " +
              hook.string() + ": writable by group or others (mode 0775)");
  }
  SECTION("not owned by root") {
    REQUIRE(::chown(hook.c_str(), 1000, 1000) == 0);
    auto r = plan_image(tree.req, tree.config());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(),
               Catch::EndsWith("refusing " + hook.string() + ": owned by uid 1000, not root"));
  }
  SECTION("missing") {
    fs::remove(hook);
    auto r = plan_image(tree.req, tree.config());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains(hook.string()) && Catch::Contains("kdump_pre"));
  }
  SECTION("a script brings its interpreter and the interpreter's libraries") {
    fs::copy_file(tree.t.dir / "bin/true", tree.t.dir / "bin/sh");
    put(hook, "#!/bin/sh\nexit 0\n", 0755);
    tree.write_config("kdump_post /usr/local/bin/pre-hook\n");
    put(tree.t.dir / "proc/self/mountinfo", "");
    auto r = plan_image(tree.req, tree.config());
    REQUIRE(r);
    CHECK(r->contents.entries().count("/bin/sh") == 1);
    CHECK(r->contents.entries().at(image_layout::kHookPost).data == "#!/bin/sh\nexit 0\n");
    CHECK(r->contents.entries().count(image_layout::kHookPre) == 0);
  }
  SECTION("a script whose interpreter others can write is refused") {
    fs::copy_file(tree.t.dir / "bin/true", tree.t.dir / "bin/sh");
    REQUIRE(::chmod((tree.t.dir / "bin/sh").c_str(), 0777) == 0);
    put(hook, "#!/bin/sh\nexit 0\n", 0755);
    auto r = plan_image(tree.req, tree.config());
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(),
               Catch::Contains("refusing its interpreter " + (tree.t.dir / "bin/sh").string()));
  }
}
