#include "crashkit/bootcfg/file_edit.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "crashkit/base/io.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::bootcfg {
namespace {

constexpr std::size_t kMaxFile = std::size_t{4} << 20;
constexpr const char* kSelinuxXattr = "security.selinux";

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find('\n', pos);
    if (end == std::string_view::npos)
      end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

void hunk(std::string& out, const std::vector<std::string_view>& a, std::size_t ab, std::size_t ae,
          const std::vector<std::string_view>& b, std::size_t bb, std::size_t be) {
  auto range = [](std::size_t begin, std::size_t n) {
    // unified-diff convention: an empty range names the line before it
    return std::to_string(n == 0 ? begin : begin + 1) + "," + std::to_string(n);
  };
  out += "@@ -" + range(ab, ae - ab) + " +" + range(bb, be - bb) + " @@\n";
  for (std::size_t i = ab; i < ae; ++i)
    out += "-" + std::string(a[i]) + "\n";
  for (std::size_t i = bb; i < be; ++i)
    out += "+" + std::string(b[i]) + "\n";
}

Status copy_selinux_label(int from_fd, int to_fd, const std::string& path) {
  char label[256];
  ssize_t n = ::fgetxattr(from_fd, kSelinuxXattr, label, sizeof label);
  if (n < 0)
    return {}; // no label (no SELinux, or a file system without xattrs)
  if (::fsetxattr(to_fd, kSelinuxXattr, label, static_cast<std::size_t>(n), 0) != 0 &&
      errno != ENOTSUP && errno != EPERM)
    return Error::from_errno(errno, "set the SELinux label").with_path(path);
  return {};
}

// Writes data to path crash-safely with st's mode and owner (and src_fd's SELinux label).
// no_replace: an existing path is kept (link instead of rename).
Status write_atomically(const std::string& path, std::string_view data, const struct stat& st,
                        int src_fd, bool no_replace) {
  std::string tmp = path + ".incomplete";
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) // left by an interrupted run of ours
    return Error::from_errno(errno, "remove a stale temporary file").with_path(tmp);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid())
    return Error::from_errno(errno, "create").with_path(tmp);
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  if (auto r = write_full(fd.get(), data.data(), data.size(), tmp); !r)
    return fail(std::move(r).error());
  struct stat mine {};
  if (::fstat(fd.get(), &mine) != 0)
    return fail(Error::from_errno(errno, "fstat").with_path(tmp));
  if ((mine.st_uid != st.st_uid || mine.st_gid != st.st_gid) &&
      ::fchown(fd.get(), st.st_uid, st.st_gid) != 0)
    return fail(Error::from_errno(errno, "keep the owner " + std::to_string(st.st_uid) + ":" +
                                             std::to_string(st.st_gid))
                    .with_path(tmp));
  if (::fchmod(fd.get(), st.st_mode & 07777) != 0)
    return fail(Error::from_errno(errno, "keep the mode").with_path(tmp));
  if (auto r = copy_selinux_label(src_fd, fd.get(), tmp); !r)
    return fail(std::move(r).error());
  if (::fsync(fd.get()) != 0)
    return fail(Error::from_errno(errno, "fsync").with_path(tmp));
  fd.reset();
  if (no_replace) {
    if (::link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST)
      return fail(Error::from_errno(errno, "link into place").with_path(path));
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(Error::from_errno(errno, "rename into place").with_path(path));
  }
  return fsync_parent_dir(path);
}

} // namespace

Result<std::string> read_text_file(const std::string& path) {
  auto text = read_whole_file(path);
  if (text && text->size() > kMaxFile)
    return Error(ErrorCategory::unsupported, "larger than 4 MiB; not a configuration file")
        .with_path(path);
  return text;
}

std::string format_diff(const FileEdit& e) {
  if (e.old_text == e.new_text)
    return {};
  auto a = split_lines(e.old_text);
  auto b = split_lines(e.new_text);
  std::string out = "--- " + e.shown_path + "\n+++ " + e.shown_path + "\n";
  if (a.size() == b.size()) {
    // Edits replace lines one for one: a hunk per run of changed lines.
    for (std::size_t i = 0; i < a.size();) {
      if (a[i] == b[i]) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < a.size() && a[j] != b[j])
        ++j;
      hunk(out, a, i, j, b, i, j);
      i = j;
    }
    if (e.old_text.ends_with('\n') != e.new_text.ends_with('\n'))
      out += "\\ the newline at the end of the file changes\n";
    return out;
  }
  std::size_t p = 0;
  while (p < a.size() && p < b.size() && a[p] == b[p])
    ++p;
  std::size_t s = 0;
  while (s < a.size() - p && s < b.size() - p && a[a.size() - 1 - s] == b[b.size() - 1 - s])
    ++s;
  hunk(out, a, p, a.size() - s, b, p, b.size() - s);
  return out;
}

Status apply_file_edit(const FileEdit& e) {
  if (e.old_text == e.new_text)
    return {};
  UniqueFd fd(::open(e.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ELOOP)
      return Error(ErrorCategory::unsupported, "is a symbolic link; edit its target by hand")
          .with_path(e.path);
    return Error::from_errno(errno, "open").with_path(e.path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return Error::from_errno(errno, "fstat").with_path(e.path);
  if (!S_ISREG(st.st_mode))
    return Error(ErrorCategory::unsupported, "not a regular file").with_path(e.path);
  auto current = CK_TRY(read_text_file(e.path));
  if (current != e.old_text)
    return Error(ErrorCategory::data, "changed since the edit was planned; run again")
        .with_path(e.path);

  std::string backup = e.path + std::string(kBackupSuffix);
  struct stat bst {};
  if (::lstat(backup.c_str(), &bst) != 0) {
    if (errno != ENOENT)
      return Error::from_errno(errno, "stat the backup").with_path(backup);
    CK_TRY_CONTEXT(write_atomically(backup, e.old_text, st, fd.get(), true), "keep a backup");
  }
  return write_atomically(e.path, e.new_text, st, fd.get(), false);
}

} // namespace crashkit::bootcfg
