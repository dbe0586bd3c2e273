#include "crashkit/capture_init/retention.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

#include "crashkit/base/path.hpp"

namespace crashkit::capture_init {

bool is_dump_dir_name(std::string_view name) {
  static constexpr std::string_view kShape = "dddd-dd-dd-dddddd";
  if (name.size() != kShape.size())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const bool digit = name[i] >= '0' && name[i] <= '9';
    if (kShape[i] == 'd' ? !digit : name[i] != '-')
      return false;
  }
  return true;
}

std::string dump_dir_name(std::int64_t unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d-%H%M%S", &tm);
  return buf;
}

Result<UniqueFd> open_dump_dir(int path_fd, const std::string& name, uid_t owner,
                               const std::string& shown_dir) {
  if (!is_dump_dir_name(name))
    return UniqueFd();
  UniqueFd fd(::openat(path_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
      return UniqueFd();
    return std::move(Error::from_errno(errno, "open").with_path(join_path(shown_dir, name)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return std::move(Error::from_errno(errno, "fstat").with_path(join_path(shown_dir, name)));
  if (st.st_uid != 0 && st.st_uid != owner)
    return UniqueFd();
  return fd;
}

DumpStatus dump_files_status(int dir_fd) {
  const auto regular = [dir_fd](const char* name) {
    struct stat st {};
    return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
  };
  if (regular("vmcore"))
    return DumpStatus::complete;
  if (regular("vmcore.incomplete"))
    return DumpStatus::incomplete;
  return DumpStatus::failed;
}

std::vector<std::string> dumps_to_remove(std::vector<OldDump> dumps, std::uint64_t keep) {
  if (keep == 0)
    return {};
  std::erase_if(dumps, [](const OldDump& d) { return !is_dump_dir_name(d.name); });
  // The fixed-width name sorts like the time it encodes; newest first here.
  std::sort(dumps.begin(), dumps.end(),
            [](const OldDump& a, const OldDump& b) { return a.name > b.name; });
  dumps.erase(std::unique(dumps.begin(), dumps.end(),
                          [](const OldDump& a, const OldDump& b) { return a.name == b.name; }),
              dumps.end());
  const std::uint64_t survivors = keep - 1;
  std::uint64_t complete_kept = 0, other_kept = 0;
  bool complete_removed = false;
  std::vector<std::string> out;
  for (const auto& d : dumps) {
    if (d.status == DumpStatus::complete) {
      if (complete_kept < survivors) {
        ++complete_kept;
        continue;
      }
      complete_removed = true;
    } else if (!complete_removed && other_kept < survivors) {
      ++other_kept;
      continue;
    }
    out.push_back(d.name);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

} // namespace crashkit::capture_init
