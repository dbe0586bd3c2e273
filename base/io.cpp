#include "crashkit/base/io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

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
  auto r = CK_TRY(pread_some(fd, buf, len, off, path));
  if (r != len)
    return Error(ErrorCategory::data, "short read: file ends after " + std::to_string(r) + " of " +
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

Result<std::string> read_whole_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "open").with_path(path);
  std::string out;
  char buf[16384];
  for (;;) {
    auto n = CK_TRY(read_full(fd.get(), buf, sizeof buf, path));
    out.append(buf, n);
    if (n < sizeof buf)
      return out;
  }
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  // A name of its own per writer, created O_EXCL (mkostemp): two writers of the same path each
  // rename a whole file of theirs, and a name planted in the directory is never opened.
  std::string tmp = path + ".incomplete.XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "cannot create").with_path(tmp);
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  // mkostemp creates 0600; the caller's mode is set exactly, whatever the umask.
  if (::fchmod(fd.get(), mode) != 0)
    return fail(Error::from_errno(errno, "chmod").with_path(tmp));
  if (auto w = write_full(fd.get(), data.data(), data.size(), tmp); !w)
    return fail(std::move(w).error());
  if (::fdatasync(fd.get()) != 0)
    return fail(Error::from_errno(errno, "fdatasync").with_path(tmp));
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(Error::from_errno(errno, "cannot rename to " + path).with_path(tmp));
  return fsync_parent_dir(path);
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
