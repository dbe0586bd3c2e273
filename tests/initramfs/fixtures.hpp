#pragma once
// Scratch trees for the initramfs tests: a fake system root (real /bin/true and its libraries
// copied from the host), a fake sysfs with a virtio disk, and a fake module tree made of tiny
// ELF objects indexed by the real depmod.

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ckt {

namespace fs = std::filesystem;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void put(const fs::path& p, const std::string& text, mode_t mode = 0644) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  ::chmod(p.c_str(), mode);
}

inline void link(const fs::path& p, const std::string& target) {
  fs::create_directories(p.parent_path());
  fs::remove(p);
  fs::create_symlink(target, p);
}

inline int sh(const std::string& cmd) {
  return std::system(cmd.c_str());
}

inline bool have(const std::string& program) {
  return sh("command -v " + program + " >/dev/null 2>&1") == 0;
}

struct TempDir {
  fs::path dir;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "initramfs_tests.XXXXXX").string();
    dir = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(dir); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

constexpr const char* kKver = "6.1.0-99-fake";

/// ROOT with /bin/true, libc.so.6 and the loader at the paths /bin/true names them.
inline void add_true_and_libs(const fs::path& root) {
  for (const char* f :
       {"/bin/true", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}) {
    fs::create_directories((root / (f + 1)).parent_path());
    fs::copy_file(fs::canonical(f), root / (f + 1), fs::copy_options::overwrite_existing);
    ::chmod((root / (f + 1)).c_str(), 0755);
  }
}

/// One fake module: exports `exports`, calls `uses`, with extra .modinfo strings.
inline void add_module(const fs::path& moddir, const std::string& rel,
                       const std::vector<std::string>& exports,
                       const std::vector<std::string>& uses,
                       const std::vector<std::string>& modinfo = {}) {
  std::string c;
  for (const auto& u : uses)
    c += "extern void " + u + "(void);\n";
  std::string ksym;
  for (const auto& e : exports) {
    c += "void " + e + "(void) {";
    for (const auto& u : uses)
      c += " " + u + "();";
    c += " }\n";
    ksym += e + "\\0";
  }
  if (exports.empty()) {
    c += "void init_module_fn(void) {";
    for (const auto& u : uses)
      c += " " + u + "();";
    c += " }\n";
  }
  if (!ksym.empty())
    c += "__attribute__((section(\"__ksymtab_strings\"), used)) static const char ksym[] = \"" +
         ksym + "\";\n";
  std::string mi;
  for (const auto& m : modinfo)
    mi += m + "\\0";
  if (!mi.empty())
    c += "__attribute__((section(\".modinfo\"), used)) static const char mi[] = \"" + mi + "\";\n";
  const fs::path out = moddir / rel;
  fs::create_directories(out.parent_path());
  const fs::path src = out.string() + ".c";
  put(src, c);
  std::string obj = out.string();
  const bool xz = obj.size() > 3 && obj.compare(obj.size() - 3, 3, ".xz") == 0;
  if (xz)
    obj.resize(obj.size() - 3);
  if (sh("gcc -c -O0 -o '" + obj + "' '" + src.string() + "'") != 0)
    throw std::runtime_error("gcc failed for " + rel);
  if (xz && sh("xz --check=crc32 -f '" + obj + "'") != 0)
    throw std::runtime_error("xz failed for " + rel);
  fs::remove(src);
}

/// ROOT/lib/modules/KVER: a virtio disk, ext4 with its dependencies (mbcache compressed) and
/// a pre-softdep on crc32c, a builtin module (loop), indexed by depmod.
inline void add_fake_modules(const fs::path& root) {
  const fs::path md = root / "lib/modules" / kKver;
  add_module(md, "kernel/drivers/virtio/virtio.ko", {"register_virtio_driver"}, {});
  add_module(md, "kernel/drivers/virtio/virtio_ring.ko", {"vring_new_virtqueue"}, {});
  add_module(md, "kernel/drivers/virtio/virtio_pci.ko", {},
             {"register_virtio_driver", "vring_new_virtqueue"}, {"alias=pci:v00001AF4d*"});
  add_module(md, "kernel/drivers/block/virtio_blk.ko", {},
             {"register_virtio_driver", "vring_new_virtqueue"}, {"alias=virtio:d00000002v*"});
  add_module(md, "kernel/fs/mbcache.ko.xz", {"mb_cache_create"}, {});
  add_module(md, "kernel/fs/jbd2/jbd2.ko", {"jbd2_journal_init_dev"}, {"mb_cache_create"});
  add_module(md, "kernel/fs/ext4/ext4.ko", {}, {"jbd2_journal_init_dev", "mb_cache_create"},
             {"alias=fs-ext4", "alias=fs-ext3", "softdep=pre: crc32c"});
  add_module(md, "kernel/crypto/crc32c_generic.ko", {}, {},
             {"alias=crc32c", "alias=crypto-crc32c"});
  add_module(md, "kernel/drivers/scsi/sd_mod.ko", {}, {});
  put(md / "modules.builtin", "kernel/drivers/block/loop.ko\n");
  put(md / "modules.order", "");
  put(md / "modules.builtin.modinfo", "");
  if (sh("depmod -b '" + root.string() + "' " + kKver + " 2>/dev/null") != 0)
    throw std::runtime_error("depmod failed");
}

/// A fake sysfs at SYS: vdb (virtio disk on virtio_pci) with partition vdb1 = MAJ:MIN.
inline void add_fake_sysfs(const fs::path& sys, unsigned maj, unsigned min) {
  const std::string pci = "devices/pci0000:00/0000:00:04.0";
  put(sys / "module/virtio_pci/initstate", "live\n");
  put(sys / "module/virtio_blk/initstate", "live\n");
  link(sys / "bus/pci/drivers/virtio-pci/module", "../../../../module/virtio_pci");
  link(sys / "bus/virtio/drivers/virtio_blk/module", "../../../../module/virtio_blk");
  link(sys / pci / "driver", "../../../bus/pci/drivers/virtio-pci");
  link(sys / pci / "virtio1/driver", "../../../../bus/virtio/drivers/virtio_blk");
  const fs::path disk = sys / pci / "virtio1/block/vdb";
  link(disk / "device", "../../../virtio1");
  put(disk / "dev", "254:16\n");
  put(disk / "vdb1/partition", "1\n");
  put(disk / "vdb1/dev", std::to_string(maj) + ":" + std::to_string(min) + "\n");
  link(sys / "class/block/vdb", "../../" + pci + "/virtio1/block/vdb");
  link(sys / "class/block/vdb1", "../../" + pci + "/virtio1/block/vdb/vdb1");
  link(sys / "dev/block" / (std::to_string(maj) + ":" + std::to_string(min)),
       "../../" + pci + "/virtio1/block/vdb/vdb1");
}

} // namespace ckt
