#include "crashkit/initramfs/root_dir.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "crashkit/base/io.hpp"

namespace crashkit::initramfs {

Result<RootDir> RootDir::open(const std::string& root) {
  std::string prefix = root;
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  const std::string dir = prefix.empty() ? "/" : prefix;
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "cannot open the root directory").with_path(dir);
  return RootDir(std::move(prefix), std::move(fd));
}

Result<UniqueFd> RootDir::open_flags(const std::string& path, int flags) const {
  const std::size_t start = path.find_first_not_of('/');
  const std::string rel = start == std::string::npos ? std::string(".") : path.substr(start);
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, fd_.get(), rel.c_str(), &how, sizeof how);
  // openat2 is Linux 5.6+; an older kernel only loses the in-tree resolution of absolute
  // symlinks, which only matters for trees other than "/".
  if (fd < 0 && errno == ENOSYS)
    fd = ::openat(fd_.get(), rel.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    return Error::from_errno(errno, "cannot open").with_path(host_path(path));
  return UniqueFd(static_cast<int>(fd));
}

Result<UniqueFd> RootDir::open_file(const std::string& path) const {
  return open_flags(path, O_RDONLY);
}

Result<struct stat> RootDir::stat(const std::string& path) const {
  auto fd = CK_TRY(open_flags(path, O_PATH));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return Error::from_errno(errno, "cannot stat").with_path(host_path(path));
  return st;
}

bool RootDir::is_regular_file(const std::string& path) const {
  auto st = stat(path);
  return st && S_ISREG(st->st_mode);
}

bool RootDir::is_directory(const std::string& path) const {
  auto st = stat(path);
  return st && S_ISDIR(st->st_mode);
}

Result<std::string> read_fd(int fd, const std::string& name) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Error::from_errno(errno, "cannot stat").with_path(name);
  if (!S_ISREG(st.st_mode))
    return Error(ErrorCategory::data, "not a regular file").with_path(name);
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  auto n = CK_TRY(pread_some(fd, data.data(), data.size(), 0, name));
  if (n != data.size())
    return Error(ErrorCategory::io, "file changed size while being read").with_path(name);
  return data;
}

Result<std::string> RootDir::read_file(const std::string& path) const {
  auto fd = CK_TRY(open_file(path));
  return read_fd(fd.get(), host_path(path));
}

} // namespace crashkit::initramfs
