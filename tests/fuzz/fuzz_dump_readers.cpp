// What `crashkit list` and `crashkit test` read from a dump directory: report.json (the part
// before the first NUL) and the vmcore file (the rest), named vmcore or vmcore.incomplete.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "crashkit/admin/dump_check.hpp"
#include "crashkit/admin/dump_list.hpp"
#include "crashkit/admin/self_test.hpp"
#include "crashkit/base/json_text.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace fs = std::filesystem;
  const auto [report, vmcore] = crashkit::fuzz::split_at_nul(data, size);
  const std::string path = crashkit::fuzz::scratch_dir() + "/crash";
  const std::string dir = path + "/2026-12-01-101010";
  fs::remove_all(path);
  fs::create_directories(dir);
  crashkit::fuzz::write_file(dir + "/report.json", report);
  const bool partial = !vmcore.empty() && (vmcore.front() & 1);
  const std::string core = dir + (partial ? "/vmcore.incomplete" : "/vmcore");
  crashkit::fuzz::write_file(core, vmcore);
  if (auto dumps = crashkit::admin::list_dumps(path)) {
    for (const auto& e : *dumps)
      (void)crashkit::json_text(crashkit::admin::to_json(e)); // as `crashkit list --json`
    crashkit::admin::PendingTest pending{"2026-12-01-000000", "boot"};
    (void)crashkit::admin::evaluate_test(pending, *dumps);
  }
  (void)crashkit::admin::check_dump(core);
  return 0;
}
