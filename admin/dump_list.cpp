#include "crashkit/admin/dump_list.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "crashkit/base/file_at.hpp"
#include "crashkit/base/path.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture_init/dump_dir.hpp"

namespace crashkit::admin {

namespace {

std::uint64_t regular_size_or_zero(int dir_fd, const char* name) {
  struct stat st {};
  if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
    return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

// Everything is read through the directory's fd, links are never followed and every read is
// bounded: PATH may be shared with other users, and `crashkit list` runs as root.
DumpEntry read_entry(int dir_fd, const std::string& dir, const std::string& name) {
  DumpEntry e;
  e.dir = dir;
  e.name = name;
  const auto files = capture_init::dump_files_status(dir_fd);
  e.status = files;
  e.vmcore_bytes = regular_size_or_zero(dir_fd, files == capture_init::DumpStatus::complete
                                                    ? capture_init::kVmcoreFile
                                                    : capture_init::kIncompleteVmcoreFile);

  const auto text =
      read_regular_file_at(dir_fd, capture_init::kReportFile, capture_init::kMaxReportBytes,
                           join_path(dir, capture_init::kReportFile));
  if (!text) {
    e.problem = text.error().sys_errno() == ENOENT ? "no report.json" : text.error().message();
    return e;
  }
  const auto report = capture_init::parse_report_json(*text);
  if (!report) {
    e.problem = "report.json: " + report.error().message();
    return e;
  }
  e.kernel = report->kernel;
  e.panic = report->panic;
  e.dump_level = report->dump_level;
  e.status = capture_init::settled_status(files, report->status);
  return e;
}

} // namespace

Result<std::vector<DumpEntry>> list_dumps(const std::string& path) {
  std::vector<DumpEntry> out;
  UniqueFd path_fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!path_fd.valid()) {
    if (errno == ENOENT)
      return out;
    return Error::from_errno(errno, "cannot list dumps").with_path(path);
  }
  auto names = CK_TRY_CONTEXT(list_dir_fd(path_fd.get(), path), "cannot list dumps");
  for (const auto& name : names) {
    // Only directories the capture made: a link or a directory another user planted under a
    // dump's name is not a dump.
    auto dir_fd = capture_init::open_dump_dir(path_fd.get(), name, ::geteuid(), path);
    if (!dir_fd) { // unreadable (not root): listed with the reason
      DumpEntry e;
      e.dir = join_path(path, name);
      e.name = name;
      e.status = capture_init::DumpStatus::failed;
      e.problem = dir_fd.error().message();
      out.push_back(std::move(e));
      continue;
    }
    if (!dir_fd->valid())
      continue;
    out.push_back(read_entry(dir_fd->get(), join_path(path, name), name));
  }
  std::sort(out.begin(), out.end(),
            [](const DumpEntry& a, const DumpEntry& b) { return a.name < b.name; });
  return out;
}

nlohmann::json to_json(const DumpEntry& e) {
  nlohmann::json j{{"dir", e.dir},           {"date", e.name},
                   {"kernel", e.kernel},     {"panic", e.panic},
                   {"size", e.vmcore_bytes}, {"status", capture_init::status_name(e.status)}};
  j["dump_level"] = e.dump_level ? nlohmann::json(*e.dump_level) : nlohmann::json(nullptr);
  if (!e.problem.empty())
    j["problem"] = e.problem;
  return j;
}

} // namespace crashkit::admin
