#include "crashkit/base/path.hpp"

namespace crashkit {

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty())
    return name;
  if (name.empty())
    return dir;
  std::string out = dir;
  if (out.back() != '/')
    out += '/';
  std::size_t i = 0;
  while (i < name.size() && name[i] == '/')
    ++i;
  return out + name.substr(i);
}

} // namespace crashkit
