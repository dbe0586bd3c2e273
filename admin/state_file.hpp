#pragma once
/// crashkit's small state files under /var/lib/crashkit (test-pending.json, crashkernel.json):
/// JSON, 0600, written crash-safely, the directory created when missing.

#include <string>

#include <nlohmann/json.hpp>

#include "crashkit/base/result.hpp"

namespace crashkit::admin {

/// Writes j to path with write_file_atomic (mode 0600) after creating its directory.
Status write_state_json(const std::string& path, const nlohmann::json& j);

}  // namespace crashkit::admin
