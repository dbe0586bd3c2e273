#include "state_file.hpp"

#include <filesystem>

#include "crashkit/base/io.hpp"

namespace crashkit::admin {

Status write_state_json(const std::string& path, const nlohmann::json& j) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return std::move(Error::from_errno(ec.value(), "cannot create").with_path(path));
  return write_file_atomic(path, j.dump(2) + "\n", 0600);
}

}  // namespace crashkit::admin
