#include "state_file.hpp"

#include <cerrno>
#include <filesystem>

#include "crashkit/base/io.hpp"
#include "crashkit/base/json_text.hpp"

namespace crashkit::admin {

std::string state_path(const std::string& root, std::string_view name) {
  return root + kStateDir + "/" + std::string(name);
}

Status write_state_json(const std::string& path, const nlohmann::json& j) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec)
    return Error::from_errno(ec.value(), "cannot create").with_path(path);
  return write_file_atomic(path, json_text(j, 2) + "\n", 0600);
}

Result<std::optional<nlohmann::json>> read_state_json(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT)
      return std::optional<nlohmann::json>{};
    return std::move(text).error();
  }
  try {
    return std::optional<nlohmann::json>(nlohmann::json::parse(*text));
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCategory::data, std::string("malformed: ") + e.what()).with_path(path);
  }
}

} // namespace crashkit::admin
