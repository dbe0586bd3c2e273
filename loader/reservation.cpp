#include "crashkit/loader/reservation.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace crashkit::loader {
namespace {

bool parse_hex(std::string_view s, std::uint64_t& out) {
  if (s.empty())
    return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

Error line_error(std::size_t lineno, const std::string& what) {
  return Error(ErrorCategory::data, "line " + std::to_string(lineno) + ": " + what)
      .with_path("/proc/iomem");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

} // namespace

Result<std::vector<IomemEntry>> parse_iomem(std::string_view text) {
  std::vector<IomemEntry> out;
  std::size_t lineno = 0;
  unsigned prev_depth = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (trim(line).empty())
      continue;

    std::size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ')
      ++indent;
    // The kernel indents by two spaces per level (kernel/resource.c r_show).
    if (indent % 2 != 0)
      return line_error(lineno, "odd indentation");
    IomemEntry e;
    e.depth = static_cast<unsigned>(indent / 2);
    if (out.empty() ? e.depth != 0 : e.depth > prev_depth + 1)
      return line_error(lineno, "indentation skips a level");
    line.remove_prefix(indent);

    // Split at the first " : "; names themselves may contain ':' ("PCI Bus 0000:00").
    auto sep = line.find(" : ");
    if (sep == std::string_view::npos)
      return line_error(lineno, "expected 'START-END : NAME'");
    std::string_view range = line.substr(0, sep);
    e.name = std::string(trim(line.substr(sep + 3)));
    auto dash = range.find('-');
    if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), e.start) ||
        !parse_hex(range.substr(dash + 1), e.end))
      return line_error(lineno, "bad address range '" + std::string(range) + "'");
    if (e.end < e.start)
      return line_error(lineno, "range ends before it starts");
    prev_depth = e.depth;
    out.push_back(std::move(e));
  }
  return out;
}

std::uint64_t Reservation::crash_bytes() const {
  std::uint64_t sum = 0;
  for (const auto& r : crash_ranges)
    sum += r.size();
  return sum;
}

std::optional<MemRange> Reservation::segment_range() const {
  if (crash_ranges.empty())
    return std::nullopt;
  return crash_ranges.back();
}

bool Reservation::is_low(const MemRange& r) const {
  return crash_ranges.size() > 1 && r.end < k4GiB && !(r == crash_ranges.back());
}

Reservation reservation_from_iomem(const std::vector<IomemEntry>& entries) {
  Reservation res;
  bool any_nonzero = false;
  for (const auto& e : entries) {
    if (e.start != 0 || e.end != 0)
      any_nonzero = true;
    if (e.name == "Crash kernel")
      res.crash_ranges.push_back({e.start, e.end});
    // Any depth: hot-plugged "System RAM (kmem)" sits under its dax device.
    else if (e.name.starts_with("System RAM"))
      res.system_ram.push_back({e.start, e.end});
  }
  res.addresses_hidden = !entries.empty() && !any_nonzero;
  auto by_start = [](const MemRange& a, const MemRange& b) { return a.start < b.start; };
  std::sort(res.crash_ranges.begin(), res.crash_ranges.end(), by_start);
  std::sort(res.system_ram.begin(), res.system_ram.end(), by_start);
  return res;
}

Lockdown parse_lockdown(std::string_view text) {
  auto open = text.find('[');
  auto close = text.find(']', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos)
    return Lockdown::unknown;
  auto word = text.substr(open + 1, close - open - 1);
  if (word == "none")
    return Lockdown::none;
  if (word == "integrity")
    return Lockdown::integrity;
  if (word == "confidentiality")
    return Lockdown::confidentiality;
  return Lockdown::unknown;
}

const char* lockdown_name(Lockdown l) {
  switch (l) {
  case Lockdown::none:
    return "none";
  case Lockdown::integrity:
    return "integrity";
  case Lockdown::confidentiality:
    return "confidentiality";
  case Lockdown::unknown:
    break;
  }
  return "unknown";
}

Result<bool> parse_sysfs_bool(std::string_view text) {
  auto t = trim(text);
  if (t == "1")
    return true;
  if (t == "0")
    return false;
  return Error(ErrorCategory::data, "expected 0 or 1, got '" + std::string(t) + "'");
}

Result<std::uint64_t> parse_sysfs_u64(std::string_view text) {
  auto t = trim(text);
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v, 10);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size())
    return Error(ErrorCategory::data, "expected a decimal number, got '" + std::string(t) + "'");
  return v;
}

std::string human_size(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1024.0 && u < 3) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (v == static_cast<double>(static_cast<std::uint64_t>(v)))
    std::snprintf(buf, sizeof buf, "%llu %s", static_cast<unsigned long long>(v), kUnits[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

} // namespace crashkit::loader
