#include "crashkit/capture_init/dump_dir.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "crashkit/base/io.hpp"
#include "crashkit/base/path.hpp"
#include "crashkit/capture/kdump_format.hpp"
#include "crashkit/capture/output_sink.hpp"

namespace crashkit::capture_init {

std::string_view status_name(DumpStatus s) {
  switch (s) {
  case DumpStatus::complete:
    return "complete";
  case DumpStatus::incomplete:
    return "incomplete";
  case DumpStatus::failed:
    break;
  }
  return "failed";
}

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
    return Error::from_errno(errno, "open").with_path(join_path(shown_dir, name));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return Error::from_errno(errno, "fstat").with_path(join_path(shown_dir, name));
  if (st.st_uid != 0 && st.st_uid != owner)
    return UniqueFd();
  return fd;
}

DumpStatus dump_files_status(int dir_fd) {
  const auto regular = [dir_fd](const char* name) {
    struct stat st {};
    return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
  };
  if (regular(kVmcoreFile))
    return DumpStatus::complete;
  if (regular(kIncompleteVmcoreFile))
    return DumpStatus::incomplete;
  return DumpStatus::failed;
}

DumpStatus settled_status(DumpStatus files, std::optional<DumpStatus> report) {
  if (files != DumpStatus::complete && report == DumpStatus::failed)
    return DumpStatus::failed;
  return files;
}

namespace {

// null is how report_json() writes an unknown value.
std::string string_or_empty(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return {};
  return it->get<std::string>();
}

bool starts_with(const void* head, std::size_t n, const char* magic, std::size_t len) {
  return n >= len && std::memcmp(head, magic, len) == 0;
}

} // namespace

Result<SavedReport> parse_report_json(std::string_view text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (!j.is_object())
      return Error(ErrorCategory::data, "not a JSON object");
    SavedReport r;
    r.kernel = string_or_empty(j, "kernel");
    r.panic = string_or_empty(j, "panic");
    if (j.contains("dump_level") && j["dump_level"].is_number_integer())
      r.dump_level = j["dump_level"].get<int>();
    const std::string status = string_or_empty(j, "status");
    for (auto s : {DumpStatus::complete, DumpStatus::incomplete, DumpStatus::failed})
      if (status == status_name(s))
        r.status = s;
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCategory::data, e.what());
  }
}

DumpFileFormat probe_dump_format(const void* head, std::size_t n) {
  if (starts_with(head, n, capture::kdump::kSignature, sizeof capture::kdump::kSignature))
    return DumpFileFormat::kdump;
  if (starts_with(head, n, ELFMAG, SELFMAG))
    return DumpFileFormat::elf;
  // The signature without its NUL: the rest of the field is padding.
  if (starts_with(head, n, capture::kFlatSignature, sizeof capture::kFlatSignature - 1))
    return DumpFileFormat::flat;
  return DumpFileFormat::unknown;
}

Result<DumpFileFormat> probe_dump_file(int fd, const std::string& shown) {
  char head[kProbeBytes] = {};
  const auto n = CK_TRY(pread_some(fd, head, sizeof head, 0, shown));
  return probe_dump_format(head, n);
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
