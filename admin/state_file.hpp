#pragma once
/// crashkit's small state files under /var/lib/crashkit (test-pending.json, crashkernel.json):
/// JSON, 0600, written crash-safely, the directory created when missing.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "crashkit/base/result.hpp"

namespace crashkit::admin {

/// Where the state files live, below the root of the system.
inline constexpr const char* kStateDir = "/var/lib/crashkit";

/// ROOT/var/lib/crashkit/NAME.
std::string state_path(const std::string& root, std::string_view name);

/// Writes j to path with write_file_atomic (mode 0600) after creating its directory.
Status write_state_json(const std::string& path, const nlohmann::json& j);

/// The JSON in path; nullopt when the file does not exist. Errors, naming the file: io (and
/// the other from_errno categories) when it cannot be read, data when it is not JSON.
Result<std::optional<nlohmann::json>> read_state_json(const std::string& path);

} // namespace crashkit::admin
