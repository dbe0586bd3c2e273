#include "crashkit/admin/dump_list.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

namespace crashkit::admin {
namespace fs = std::filesystem;

bool is_dump_dir_name(const std::string& n) {
  // YYYY-MM-DD-HHMMSS
  if (n.size() != 17) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const bool dash = i == 4 || i == 7 || i == 10;
    if (dash ? n[i] != '-' : !std::isdigit(static_cast<unsigned char>(n[i]))) return false;
  }
  return true;
}

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

  std::ifstream in(dir / "report.json");
  if (!in) {
    e.problem = "no report.json";
    return e;
  }
  try {
    const auto j = nlohmann::json::parse(in);
    e.kernel = j.value("kernel", "");
    e.panic = j.value("panic", "");
    if (j.contains("dump_level") && j["dump_level"].is_number_integer())
      e.dump_level = j["dump_level"].get<int>();
    // The files on disk decide completeness; the report may predate a failed rename. A
    // "failed" report wins only when no complete vmcore exists.
    const std::string reported = j.value("status", "");
    if (!complete && reported == "failed") e.status = "failed";
  } catch (const nlohmann::json::exception& ex) {
    e.problem = std::string("report.json: ") + ex.what();
  }
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
    if (!it->is_directory(ec) || !is_dump_dir_name(it->path().filename().string())) continue;
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
