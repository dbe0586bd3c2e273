#include "crashkit/admin/dump_location.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <sstream>

#include "crashkit/base/io.hpp"
#include "crashkit/capture_init/capture_init.hpp"
#include "crashkit/initramfs/target_device.hpp"

namespace crashkit::admin {
namespace {

/// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (std::size_t k = 1; k <= 3; ++k) {
        const char d = s[i + k];
        if (d < '0' || d > '7')
          ok = false;
        v = v * 8 + (d - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

} // namespace

Result<std::string> mount_point_of(std::string_view mountinfo, unsigned major, unsigned minor) {
  const std::string want = std::to_string(major) + ":" + std::to_string(minor);
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT ...
    std::istringstream f(line);
    std::string id, parent, dev, root, mp;
    if (!(f >> id >> parent >> dev >> root >> mp))
      continue;
    if (dev == want && root == "/")
      return unescape(mp);
  }
  return Error(ErrorCategory::no_input, "device " + want + " is not mounted");
}

namespace {

/// The host directory where the target file system's root is mounted ("" + path is PATH).
Result<std::string> target_fs_root(const conf::Config& c, const std::string& root) {
  const auto& t = c.target.value;
  if (t.kind == conf::Target::Kind::root_fs)
    return root;
  if (t.kind == conf::Target::Kind::raw)
    return Error(ErrorCategory::unsupported,
                 "the target is the raw device " + t.device.str() +
                     ": dumps stay there until `crashkit start` saves them below " + c.path.value);
  std::string dev;
  if (t.device.kind == conf::DeviceRef::Kind::path) {
    dev = root + t.device.value;
  } else {
    auto name = initramfs::blkid_evaluate(t.device);
    if (!name)
      return Error(ErrorCategory::no_input,
                   "no block device has " + t.device.str() + " (" + c.target.origin.str() + ")");
    dev = std::move(*name);
  }
  struct stat st {};
  if (::stat(dev.c_str(), &st) != 0)
    return Error::from_errno(errno, "dump target").with_path(dev);
  if (!S_ISBLK(st.st_mode))
    return Error(ErrorCategory::data, "dump target is not a block device").with_path(dev);
  auto mountinfo = CK_TRY(read_whole_file("/proc/self/mountinfo"));
  auto mp = mount_point_of(mountinfo, major(st.st_rdev), minor(st.st_rdev));
  if (!mp)
    return Error(ErrorCategory::no_input, "the dump target " + t.device.str() + " (" + dev +
                                              ") is not mounted: mount it to see its dumps");
  return root + (*mp == "/" ? "" : *mp);
}

} // namespace

Result<std::string> dump_directory(const conf::Config& c, const std::string& root) {
  auto fs_root = CK_TRY(target_fs_root(c, root));
  return fs_root + c.path.value;
}

Status check_dump_path(const conf::Config& c, const std::string& root) {
  auto fs_root = target_fs_root(c, root);
  if (!fs_root)
    return {}; // a raw target, or a file system not mounted here: nothing to see
  auto fd = capture_init::open_dump_path(fs_root->empty() ? "/" : *fs_root, c.path.value,
                                         /*create=*/false);
  if (!fd && fd.error().category() != ErrorCategory::no_input)
    return std::move(fd).error();
  return {}; // what is missing, the capture creates (0755, root's)
}

} // namespace crashkit::admin
