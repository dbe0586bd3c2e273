#include "crashkit/admin/self_test.hpp"

#include "crashkit/admin/dump_check.hpp"

#include <unistd.h>

#include <cerrno>
#include <ctime>

#include <nlohmann/json.hpp>

#include "crashkit/admin/dump_location.hpp"
#include "crashkit/base/path.hpp"
#include "crashkit/capture_init/dump_dir.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "crashkit/loader/system_state.hpp"
#include "state_file.hpp"

namespace crashkit::admin {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

} // namespace

std::string utc_stamp_now() {
  return capture_init::dump_dir_name(std::time(nullptr));
}

TestOutcome evaluate_test(const PendingTest& pending, const std::vector<DumpEntry>& dumps) {
  TestOutcome o;
  o.test = pending;
  for (const auto& d : dumps) {
    if (d.name < pending.started)
      continue;
    o.dump_dir = d.dir;
    if (d.status != capture_init::DumpStatus::complete) {
      o.detail = "test of " + pending.started + ": FAILED, the dump in " + d.dir + " is " +
                 std::string(capture_init::status_name(d.status)) + " (its report.json says why)";
      continue; // a later complete one wins
    }
    o.saved = true;
    auto h = check_dump(join_path(d.dir, capture_init::kVmcoreFile));
    o.opens = h && !h->incomplete;
    o.detail = "test of " + pending.started + ": dump saved in " + d.dir + " (complete, " +
               (!h              ? "but " + h.error().message()
                : h->incomplete ? "but its header says incomplete: " + h->summary()
                                : h->summary()) +
               ")";
    if (o.opens)
      return o;
  }
  if (o.detail.empty())
    o.detail = "test of " + pending.started + ": FAILED, no dump was saved after the crash";
  return o;
}

Status run_test(loader::KexecSys& sys, const std::string& root, const std::string& now_utc) {
  auto state = CK_TRY(loader::probe_system(sys));
  if (!state.crash_loaded)
    return Error(ErrorCategory::unsupported,
                 "kdump is not armed (no panic kernel loaded): run `crashkit start` first; the "
                 "machine was not crashed");
  // sysrq may be restricted to a bitmask without "crash": enable all for this one write, and
  // give the administrator's value back whenever the machine is still running afterwards.
  auto sysrq =
      CK_TRY_CONTEXT(sys.read_file(kSysrqPath), "kernel.sysrq; the machine was not crashed");
  const std::string saved = trim(sysrq);
  auto boot_id = sys.read_file(kBootIdPath);
  nlohmann::json j{{"started", now_utc}, {"boot_id", boot_id ? trim(*boot_id) : ""}};
  const std::string pending = state_path(root, kPendingTestFile);
  CK_TRY(write_state_json(pending, j));
  ::sync();
  Status st = sys.write_control(kSysrqPath, "1\n");
  std::string left = saved;
  if (st) {
    st = sys.write_control(kSysrqTriggerPath, "c");
    if (st)
      return {}; // a real kernel never gets here; a test double records the crash
    if (auto back = sys.write_control(kSysrqPath, saved + "\n"); !back)
      left = "1";
  }
  // No crash happened: a pending test would be judged a failed capture on the next boot.
  ::unlink(pending.c_str());
  return std::move(st).error().context("the machine was not crashed, kernel.sysrq is " + left);
}

Result<PendingState> read_pending_test(loader::KexecSys& sys, const std::string& root) {
  PendingState s;
  const std::string path = state_path(root, kPendingTestFile);
  auto j = CK_TRY(read_state_json(path));
  if (!j)
    return s;
  try {
    s.pending = PendingTest{j->at("started").get<std::string>(), j->value("boot_id", "")};
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCategory::data, std::string("malformed: ") + e.what()).with_path(path);
  }
  auto now = sys.read_file(kBootIdPath);
  s.from_earlier_boot = !now || trim(*now) != s.pending->boot_id;
  return s;
}

Result<TestOutcome> settle_test(const std::string& root, const PendingTest& pending,
                                const std::vector<DumpEntry>& dumps) {
  auto o = evaluate_test(pending, dumps);
  nlohmann::json j{{"started", pending.started},
                   {"saved", o.saved},
                   {"opens", o.opens},
                   {"dump_dir", o.dump_dir},
                   {"detail", o.detail}};
  CK_TRY(write_state_json(state_path(root, kLastTestFile), j));
  ::unlink(state_path(root, kPendingTestFile).c_str());
  return o;
}

std::optional<std::string> last_test_detail(const std::string& root) {
  auto j = read_state_json(state_path(root, kLastTestFile));
  if (!j) {
    if (j.error().category() == ErrorCategory::data)
      return std::string("test-last.json is malformed");
    return "test: " + j.error().message();
  }
  if (!*j)
    return std::nullopt;
  try {
    return (*j)->value("detail", "");
  } catch (const nlohmann::json::exception&) {
    return std::string("test-last.json is malformed");
  }
}

std::optional<std::string> test_status_line(loader::KexecSys& sys, const std::string& root,
                                            const conf::Config* start_config) {
  const bool only_to_judge = start_config != nullptr;
  auto pending = read_pending_test(sys, root);
  if (!pending)
    return "last test: " + pending.error().message();
  if (only_to_judge && !(pending->pending && pending->from_earlier_boot))
    return std::nullopt;
  if (pending->pending && !pending->from_earlier_boot)
    return "last test: started " + pending->pending->started + ", the machine has not crashed yet";
  if (pending->pending) {
    std::optional<conf::ConfigParse> parse;
    if (!start_config) {
      parse = conf::load_config(root);
      if (!parse->ok())
        return std::string("last test: cannot judge it, the configuration has errors");
    }
    auto dir = dump_directory(start_config ? *start_config : parse->config, root);
    if (!dir)
      return "last test: cannot judge it yet: " + dir.error().message();
    auto dumps = list_dumps(*dir);
    if (!dumps)
      return "last test: " + dumps.error().message();
    auto outcome = settle_test(root, *pending->pending, *dumps);
    if (!outcome)
      return "last test: " + outcome.error().message();
    return "last " + outcome->detail;
  }
  if (auto detail = last_test_detail(root))
    return "last " + *detail;
  return std::nullopt;
}

} // namespace crashkit::admin
