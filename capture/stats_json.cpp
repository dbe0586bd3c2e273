#include "crashkit/capture/stats_json.hpp"

namespace crashkit::capture {

nlohmann::json page_counts_json(const CaptureStats& s) {
  return {
      {"total", s.max_mapnr},
      {"ram", s.ram_pages},
      {"excluded",
       {{"zero", s.excluded.zero},
        {"cache", s.excluded.cache},
        {"cache_private", s.excluded.cache_private},
        {"user", s.excluded.user},
        {"free", s.excluded.free},
        {"hwpoison", s.excluded.hwpoison},
        {"offline", s.excluded.offline}}},
      {"dumped", s.dumped_pages},
      {"written", s.written_pages},
      {"unreadable", s.unreadable_pages},
      {"shared", s.shared_pages},
  };
}

void add_dump_level_json(nlohmann::json& j, const CaptureStats& s) {
  j["dump_level"] = s.dump_level;
  j["requested_dump_level"] = s.requested_dump_level;
  j["dump_level_reasons"] = s.level_reasons;
}

} // namespace crashkit::capture
