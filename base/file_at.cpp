#include "crashkit/base/file_at.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "crashkit/base/io.hpp"

namespace crashkit {

Result<UniqueFd> open_dir_at(int dir_fd, const std::string& name, const std::string& shown) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "open directory").with_path(shown);
  return fd;
}

Result<std::vector<std::string>> list_dir_fd(int dir_fd, const std::string& shown) {
  const int dup_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0)
    return Error::from_errno(errno, "dup").with_path(shown);
  std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dup_fd), ::closedir);
  if (!d) {
    const int err = errno;
    ::close(dup_fd);
    return Error::from_errno(err, "opendir").with_path(shown);
  }
  // The dup shares the offset with dir_fd: start at the beginning whatever read it before.
  ::rewinddir(d.get());
  std::vector<std::string> out;
  while (auto* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..")
      out.push_back(std::move(n));
  }
  return out;
}

Result<RegularFile> open_regular_at(int dir_fd, const std::string& name, int flags,
                                    const std::string& shown) {
  RegularFile f;
  f.fd = UniqueFd(
      ::openat(dir_fd, name.c_str(), flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!f.fd.valid())
    return Error::from_errno(errno, "open").with_path(shown);
  struct stat st {};
  if (::fstat(f.fd.get(), &st) != 0)
    return Error::from_errno(errno, "fstat").with_path(shown);
  if (!S_ISREG(st.st_mode))
    return Error(ErrorCategory::data, "not a regular file").with_path(shown);
  f.size = static_cast<std::uint64_t>(st.st_size);
  return f;
}

Result<std::string> read_regular_file_at(int dir_fd, const std::string& name, std::size_t max_bytes,
                                         const std::string& shown) {
  auto f = CK_TRY(open_regular_at(dir_fd, name, O_RDONLY, shown));
  if (f.size > max_bytes)
    return Error(ErrorCategory::data, "larger than " + std::to_string(max_bytes) + " bytes (" +
                                          std::to_string(f.size) + ")")
        .with_path(shown);
  // One byte more than allowed shows a file that grew after the fstat.
  std::string out(max_bytes + 1, '\0');
  auto n = CK_TRY(read_full(f.fd.get(), out.data(), out.size(), shown));
  if (n > max_bytes)
    return Error(ErrorCategory::data, "larger than " + std::to_string(max_bytes) + " bytes")
        .with_path(shown);
  out.resize(n);
  return out;
}

} // namespace crashkit
