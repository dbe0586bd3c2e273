#include "crashkit/admin/dump_list.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "crashkit/base/io.hpp"
#include "crashkit/capture_init/dump_report.hpp"
#include "crashkit/capture_init/retention.hpp"

namespace crashkit::admin {
namespace fs = std::filesystem;

namespace {

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto s = fs::file_size(p, ec);
  return ec ? 0 : s;
}

DumpEntry read_entry(const fs::path& dir) {
  DumpEntry e;
  e.dir = dir.string();
  e.name = dir.filename().string();
  const bool complete = fs::exists(dir / "vmcore");
  const bool partial = fs::exists(dir / "vmcore.incomplete");
  e.status = complete ? "complete" : partial ? "incomplete" : "failed";
  e.vmcore_bytes = file_size_or_zero(dir / (complete ? "vmcore" : "vmcore.incomplete"));

  const auto text = read_whole_file((dir / "report.json").string());
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
  // The files on disk decide completeness; the report may predate a failed rename. A
  // "failed" report wins only when no complete vmcore exists.
  if (!complete && report->status == capture_init::DumpStatus::failed) e.status = "failed";
  return e;
}

}  // namespace

Result<std::vector<DumpEntry>> list_dumps(const std::string& path) {
  std::vector<DumpEntry> out;
  std::error_code ec;
  if (!fs::exists(path, ec)) return out;
  fs::directory_iterator it(path, ec), end;
  if (ec) return std::move(Error::from_errno(ec.value(), "cannot list dumps").with_path(path));
  for (; it != end; it.increment(ec)) {
    if (ec) return std::move(Error::from_errno(ec.value(), "cannot list dumps").with_path(path));
    if (!it->is_directory(ec) ||
        !capture_init::is_dump_dir_name(it->path().filename().string()))
      continue;
    out.push_back(read_entry(it->path()));
  }
  std::sort(out.begin(), out.end(),
            [](const DumpEntry& a, const DumpEntry& b) { return a.name < b.name; });
  return out;
}

nlohmann::json to_json(const DumpEntry& e) {
  nlohmann::json j{{"dir", e.dir},       {"date", e.name},   {"kernel", e.kernel},
                   {"panic", e.panic},   {"size", e.vmcore_bytes}, {"status", e.status}};
  j["dump_level"] = e.dump_level ? nlohmann::json(*e.dump_level) : nlohmann::json(nullptr);
  if (!e.problem.empty()) j["problem"] = e.problem;
  return j;
}

}  // namespace crashkit::admin
