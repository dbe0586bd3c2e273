// The JSON files crashkit reads back: a dump's report.json, the initramfs manifest and the
// state files under /var/lib/crashkit (test-pending.json, test-last.json, crashkernel.json).
// Property: a report written by report_json() parses back to the same fields.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "crashkit/admin/crashkernel_upkeep.hpp"
#include "crashkit/admin/self_test.hpp"
#include "crashkit/capture_init/dump_report.hpp"
#include "crashkit/initramfs/manifest.hpp"
#include "crashkit/testing/fake_kexec_sys.hpp"
#include "fuzz_support.hpp"
#include "state_file.hpp"

namespace {

void check_report_roundtrip(const crashkit::capture_init::SavedReport& in) {
  using crashkit::capture_init::DumpReport;
  DumpReport r;
  r.kernel = in.kernel;
  r.panic = in.panic;
  r.dump_level = in.dump_level.value_or(31);
  r.status = in.status.value_or(crashkit::capture_init::DumpStatus::failed);
  std::string text;
  try {
    text = crashkit::capture_init::report_json(r);
  } catch (...) {
    return; // invalid UTF-8 in kernel/panic: what report_json does with it is tested elsewhere
  }
  auto back = crashkit::capture_init::parse_report_json(text);
  if (!back || back->kernel != r.kernel || back->panic != r.panic ||
      back->dump_level != r.dump_level || back->status != r.status)
    crashkit::fuzz::property_failed("parse_report_json(report_json(r)) != r");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto r = crashkit::capture_init::parse_report_json(text))
    check_report_roundtrip(*r);
  if (auto m = crashkit::initramfs::Manifest::parse(text, "image.manifest.json")) {
    auto again = crashkit::initramfs::Manifest::parse(m->to_json(), "again");
    if (!again || again->to_json() != m->to_json())
      crashkit::fuzz::property_failed("Manifest::parse(to_json(m)) != m");
  }

  const std::string root = crashkit::fuzz::scratch_dir() + "/root";
  std::filesystem::create_directories(root + crashkit::admin::kStateDir);
  for (const char* name : {"test-pending.json", "test-last.json", "crashkernel.json"})
    crashkit::fuzz::write_file(crashkit::admin::state_path(root, name), text);
  (void)crashkit::admin::read_state_json(crashkit::admin::state_path(root, "test-last.json"));
  (void)crashkit::admin::last_test_detail(root);
  (void)crashkit::admin::read_crashkernel_record(root);
  crashkit::loader::FakeKexecSys sys;
  (void)crashkit::admin::read_pending_test(sys, root);
  return 0;
}
