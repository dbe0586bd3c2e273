#pragma once
/// The dumps saved under PATH/YYYY-MM-DD-HHMMSS/ by the capture environment, read back from
/// their report.json (written by crashkit-capture --init) or, where that is missing, from the
/// files present. Read-only; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashkit/base/result.hpp"
#include "crashkit/capture_init/dump_dir.hpp"

namespace crashkit::admin {

struct DumpEntry {
  std::string dir;    ///< absolute directory
  std::string name;   ///< YYYY-MM-DD-HHMMSS
  std::string kernel; ///< OSRELEASE of the crashed kernel ("" when unknown)
  std::string panic;  ///< the panic message ("" when unknown)
  std::uint64_t vmcore_bytes = 0;
  /// complete (vmcore present), incomplete (vmcore.incomplete only), failed (the report says
  /// so, or no dump file at all): capture_init::settled_status.
  capture_init::DumpStatus status = capture_init::DumpStatus::failed;
  std::optional<int> dump_level;
  std::string problem; ///< why report.json was not used (unreadable, malformed)
};

/// Every dump directory in `path`, oldest first (names sort by time). A missing `path` gives
/// an empty list. Errors: io when `path` exists but cannot be read.
Result<std::vector<DumpEntry>> list_dumps(const std::string& path);

/// One entry as JSON (the --json output: an array of these).
nlohmann::json to_json(const DumpEntry& e);

} // namespace crashkit::admin
