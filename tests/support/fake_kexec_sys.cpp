#include "crashkit/testing/fake_kexec_sys.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "crashkit/base/io.hpp"

namespace crashkit::loader {

void FakeKexecSys::set_kexec_state(bool crash_loaded, bool reboot_loaded,
                                   std::uint64_t crash_size) {
  files["/sys/kernel/kexec_crash_loaded"] = crash_loaded ? "1\n" : "0\n";
  files["/sys/kernel/kexec_loaded"] = reboot_loaded ? "1\n" : "0\n";
  files["/sys/kernel/kexec_crash_size"] = std::to_string(crash_size) + "\n";
  files["/sys/kernel/security/lockdown"] = "[none] integrity confidentiality\n";
}

Result<OpenedImage> FakeKexecSys::open_image(const std::string& path) {
  ++open_counts[path];
  auto it = images.find(path);
  if (it == images.end()) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return std::move(Error::from_errno(errno, "open").with_path(path));
    struct stat st {};
    ::fstat(fd, &st);
    opened_fds[path] = fd;
    return OpenedImage{UniqueFd(fd), static_cast<std::uint64_t>(st.st_size)};
  }
  const Image& img = it->second;
  UniqueFd fd(::memfd_create(path.c_str(), MFD_CLOEXEC));
  if (!fd.valid())
    return std::move(Error::from_errno(errno, "memfd_create").with_path(path));
  const auto head = static_cast<std::size_t>(std::min<std::uint64_t>(img.head.size(), img.size));
  if (auto st = pwrite_full(fd.get(), img.head.data(), head, 0, path); !st)
    return std::move(st).error();
  if (::ftruncate(fd.get(), static_cast<off_t>(img.size)) != 0 ||
      (img.truncated_after_open &&
       ::ftruncate(fd.get(), static_cast<off_t>(*img.truncated_after_open)) != 0))
    return std::move(Error::from_errno(errno, "ftruncate").with_path(path));
  opened_fds[path] = fd.get();
  return OpenedImage{std::move(fd), img.size};
}

Status FakeKexecSys::kexec_file_load(int kernel_fd, int initrd_fd, std::span<const char> cmdline,
                                     unsigned long flags) {
  FileLoadCall c;
  c.kernel_fd = kernel_fd;
  c.initrd_fd = initrd_fd;
  c.cmdline_len = cmdline.size();
  c.cmdline_ptr_null = cmdline.data() == nullptr;
  if (!cmdline.empty())
    c.cmdline_bytes.assign(cmdline.data(), cmdline.size());
  c.flags = flags;
  file_load_calls.push_back(c);

  const bool crash = (flags & kKexecFileOnCrash) != 0;
  const std::string slot = crash ? "/sys/kernel/kexec_crash_loaded" : "/sys/kernel/kexec_loaded";
  if (file_load_errno != 0) {
    // A failed load (not unload) frees the old crash image first (kernel/kexec_file.c).
    if (track_sysfs && crash && !(flags & kKexecFileUnload) && files.count(slot))
      files[slot] = "0\n";
    return Error::from_errno(file_load_errno, "kexec_file_load");
  }
  if (track_sysfs && files.count(slot))
    files[slot] = (flags & kKexecFileUnload) ? "0\n" : "1\n";
  return {};
}

Status FakeKexecSys::kexec_load(std::uint64_t entry, std::span<const KexecSegment> segments,
                                unsigned long flags) {
  ++kexec_load_calls;
  LoadCall c;
  c.entry = entry;
  c.flags = flags;
  for (const auto& s : segments)
    c.segments.push_back({std::string(static_cast<const char*>(s.buf), s.bufsz), s.mem, s.memsz});
  load_calls.push_back(std::move(c));
  const bool crash = (flags & kKexecOnCrash) != 0;
  const std::string slot = crash ? "/sys/kernel/kexec_crash_loaded" : "/sys/kernel/kexec_loaded";
  if (track_sysfs && files.count(slot))
    files[slot] = load_errno ? "0\n" : "1\n";
  if (load_errno)
    return Error::from_errno(load_errno, "kexec_load");
  return {};
}

Result<std::string> FakeKexecSys::read_prefix(const std::string& path, std::size_t max_bytes) {
  auto t = read_file(path);
  if (!t)
    return t;
  return t->substr(0, max_bytes);
}

Result<std::string> FakeKexecSys::read_file(const std::string& path) {
  ++read_counts[path];
  auto it = files.find(path);
  if (it == files.end())
    return std::move(Error::from_errno(ENOENT, "open").with_path(path));
  return it->second;
}

Status FakeKexecSys::write_control(const std::string& path, const std::string& text) {
  control_writes.emplace_back(path, text);
  if (auto e = control_errno.find(path); e != control_errno.end())
    return std::move(Error::from_errno(e->second, "write").with_path(path));
  if (auto f = files.find(path); f != files.end())
    f->second = text;
  return {};
}

Status FakeKexecSys::reboot_kexec() {
  ++reboot_calls;
  return {};
}

} // namespace crashkit::loader
