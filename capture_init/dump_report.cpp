#include "crashkit/capture_init/dump_report.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

#include "crashkit/base/json_text.hpp"
#include "crashkit/capture/page_compressor.hpp"
#include "crashkit/capture/stats_json.hpp"

namespace crashkit::capture_init {

std::string iso8601_utc(std::int64_t unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string find_panic_line(std::string_view dmesg) {
  static constexpr std::string_view kPanic = "Kernel panic - not syncing:";
  const auto at = dmesg.rfind(kPanic);
  if (at == std::string_view::npos)
    return {};
  auto end = dmesg.find('\n', at);
  std::string_view line = dmesg.substr(at, end == std::string_view::npos ? end : end - at);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t'))
    line.remove_suffix(1);
  return std::string(line);
}

std::string report_json(const DumpReport& r) {
  using nlohmann::json;
  json j;
  j["version"] = 1;
  j["time"] = iso8601_utc(r.time);
  j["kernel"] = r.kernel.empty() ? json(nullptr) : json(r.kernel);
  j["panic"] = r.panic.empty() ? json(nullptr) : json(r.panic);
  j["dump_level"] = r.dump_level;
  j["format"] = r.format;
  j["compression"] = r.compression;
  j["sizes"] = {{"vmcore", r.vmcore_bytes}, {"dmesg", r.dmesg_bytes}};
  if (r.stats) {
    capture::add_dump_level_json(j, *r.stats);
    j["pages"] = capture::page_counts_json(*r.stats);
  } else {
    j["requested_dump_level"] = r.dump_level;
    j["dump_level_reasons"] = json::array();
    j["pages"] = nullptr;
  }
  j["duration_s"] = r.duration_s;
  j["status"] = std::string(status_name(r.status));
  j["exit_code"] = r.exit_code;
  j["message"] = r.message;
  return json_text(j, 2) + "\n";
}

} // namespace crashkit::capture_init
