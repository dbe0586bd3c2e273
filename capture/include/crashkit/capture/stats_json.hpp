#pragma once
/// The page counts of a capture as JSON, one schema for `crashkit-capture --json` and the
/// capture environment's report.json:
///   {"total", "ram", "excluded": {"zero", "cache", "cache_private", "user", "free",
///    "hwpoison", "offline"}, "dumped", "written", "unreadable", "shared"}

#include <nlohmann/json.hpp>

#include "crashkit/capture/capture_job.hpp"

namespace crashkit::capture {

nlohmann::json page_counts_json(const CaptureStats& s);

/// The dump level keys, one schema for `crashkit-capture --json` and report.json:
///   "dump_level": achieved, "requested_dump_level": asked for,
///   "dump_level_reasons": [why achieved < requested, naming the VMCOREINFO keys] ([] when equal)
void add_dump_level_json(nlohmann::json& j, const CaptureStats& s);

} // namespace crashkit::capture
