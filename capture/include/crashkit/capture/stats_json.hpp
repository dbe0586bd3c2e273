#pragma once
/// The page counts of a capture as JSON, one schema for `crashkit-capture --json` and the
/// capture environment's report.json:
///   {"total", "ram", "excluded": {"zero", "cache", "cache_private", "user", "free",
///    "hwpoison", "offline"}, "dumped", "written", "unreadable", "shared"}

#include <nlohmann/json.hpp>

#include "crashkit/capture/capture_job.hpp"

namespace crashkit::capture {

nlohmann::json page_counts_json(const CaptureStats& s);

}  // namespace crashkit::capture
