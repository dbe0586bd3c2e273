#include "crashkit/capture_init/retention.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace crashkit::capture_init {

bool is_dump_dir_name(std::string_view name) {
  static constexpr std::string_view kShape = "dddd-dd-dd-dddddd";
  if (name.size() != kShape.size())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const bool digit = name[i] >= '0' && name[i] <= '9';
    if (kShape[i] == 'd' ? !digit : name[i] != '-')
      return false;
  }
  return true;
}

std::string dump_dir_name(std::int64_t unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d-%H%M%S", &tm);
  return buf;
}

std::vector<std::string> dumps_to_remove(std::vector<std::string> entries, std::uint64_t keep) {
  if (keep == 0)
    return {};
  std::erase_if(entries, [](const std::string& n) { return !is_dump_dir_name(n); });
  // The fixed-width name sorts like the time it encodes.
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  const std::uint64_t survivors = std::max<std::uint64_t>(keep - 1, 1);
  if (entries.size() <= survivors)
    return {};
  entries.resize(entries.size() - survivors);
  return entries;
}

} // namespace crashkit::capture_init
