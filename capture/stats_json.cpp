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

}  // namespace crashkit::capture
