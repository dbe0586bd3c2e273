#include "crashkit/base/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "crashkit/base/unique_fd.hpp"

namespace crashkit {

Result<std::size_t> pread_some(int fd, void* buf, std::size_t len, std::uint64_t off,
                               const std::string& path) {
  auto* p = static_cast<char*>(buf);
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, p + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno(errno, "pread").with_path(path).with_offset(off + done);
    }
    if (n == 0)
      break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Status pread_full(int fd, void* buf, std::size_t len, std::uint64_t off, const std::string& path) {
  auto r = pread_some(fd, buf, len, off, path);
  if (!r)
    return std::move(r).error();
  if (*r != len)
    return Error(ErrorCategory::data, "short read: file ends after " + std::to_string(*r) + " of " +
                                          std::to_string(len) + " bytes")
        .with_path(path)
        .with_offset(off);
  return {};
}

Status pwrite_full(int fd, const void* buf, std::size_t len, std::uint64_t off,
                   const std::string& path) {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::pwrite(fd, p + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno(errno, "write").with_path(path).with_offset(off + done);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Status write_full(int fd, const void* buf, std::size_t len, const std::string& path) {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::write(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno(errno, "write").with_path(path);
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::size_t> read_full(int fd, void* buf, std::size_t len, const std::string& path) {
  auto* p = static_cast<char*>(buf);
  std::size_t done = 0;
  while (done < len) {
    ssize_t n = ::read(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return Error::from_errno(errno, "read").with_path(path);
    }
    if (n == 0)
      break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

Status fsync_parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "open directory").with_path(dir);
  if (::fsync(fd.get()) != 0)
    return Error::from_errno(errno, "fsync directory").with_path(dir);
  return {};
}

unsigned online_cpus() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1U;
}

} // namespace crashkit
