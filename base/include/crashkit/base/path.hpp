#pragma once
/// Path strings (no file-system access).

#include <string>

namespace crashkit {

/// The directory part of path, as dirname(3): "." when there is no slash, "/" for "/x".
std::string dirname_of(const std::string& path);

/// dir/name with exactly one slash between them (name's leading slashes dropped, so an
/// absolute name stays below dir); either part empty gives the other.
std::string join_path(const std::string& dir, const std::string& name);

} // namespace crashkit
