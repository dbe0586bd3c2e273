#pragma once
/// `crashkit test`: crash the machine on purpose to prove kdump works, and on the next boot say
/// whether the dump was saved and opens. The pending test is a small JSON file in the state
/// directory, tied to the boot it was started in (boot_id), so a test that never crashed is not
/// mistaken for a failed one.

#include <optional>
#include <string>
#include <vector>

#include "crashkit/admin/dump_list.hpp"
#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"
#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::admin {

inline constexpr const char* kPendingTestFile = "test-pending.json";
inline constexpr const char* kLastTestFile = "test-last.json";
inline constexpr const char* kBootIdPath = "/proc/sys/kernel/random/boot_id";
inline constexpr const char* kSysrqPath = "/proc/sys/kernel/sysrq";
inline constexpr const char* kSysrqTriggerPath = "/proc/sysrq-trigger";

struct PendingTest {
  std::string started; ///< UTC, YYYY-MM-DD-HHMMSS: dumps named at or after it belong to it
  std::string boot_id; ///< the boot the crash was triggered in
};

struct TestOutcome {
  PendingTest test;
  bool saved = false; ///< a complete dump exists from after the test started
  bool opens = false; ///< its vmcore reads as a whole dump (check_dump, dump_check.hpp)
  std::string dump_dir;
  std::string detail; ///< one line for `status`
};

/// The outcome of `pending` given the dumps now present (oldest first).
TestOutcome evaluate_test(const PendingTest& pending, const std::vector<DumpEntry>& dumps);

/// Records the test (ROOT/var/lib/crashkit/test-pending.json, atomically) and crashes the
/// machine through sysrq (kernel.sysrq set to 1 for the trigger). Refuses (unsupported, nothing
/// written) unless a panic kernel is armed. Returns only on failure: after the sysrq write the
/// kernel is gone. A failed trigger puts kernel.sysrq back to the value it had and removes the
/// pending test; the error says what kernel.sysrq is left at.
Status run_test(loader::KexecSys& sys, const std::string& root, const std::string& now_utc);

/// The pending test, if any, and whether it can be judged now (a different boot).
struct PendingState {
  std::optional<PendingTest> pending;
  bool from_earlier_boot = false;
};
/// Errors: the file's read error (a missing file is no pending test), data when malformed.
Result<PendingState> read_pending_test(loader::KexecSys& sys, const std::string& root);

/// Judges a pending test from an earlier boot against `dumps`, stores the outcome as
/// test-last.json and removes the pending file. Errors: io writing the state files.
Result<TestOutcome> settle_test(const std::string& root, const PendingTest& pending,
                                const std::vector<DumpEntry>& dumps);

/// The last settled outcome's detail line, if any; when test-last.json cannot be read or is
/// malformed, a line saying so.
std::optional<std::string> last_test_detail(const std::string& root);

/// The `crashkit test` line of `status` (without "\n"): pending in this boot, judged now (the
/// first boot after the crash: settle_test against the dumps of the dump directory), or the
/// last judged outcome; nullopt when there is nothing to say. `start` passes its config: then
/// only a test from an earlier boot is judged (what crashkit.service says at boot); without
/// one, crashkit.conf under root gives the dump directory. Problems reading it come back as
/// the line, never as an error: the exit codes of status and start are about the armed kernel.
std::optional<std::string> test_status_line(loader::KexecSys& sys, const std::string& root,
                                            const conf::Config* start_config);

/// Now, UTC, as YYYY-MM-DD-HHMMSS: capture_init::dump_dir_name, the name the capture gives
/// the dump directory, so a test's start compares with the dumps saved after it.
std::string utc_stamp_now();

} // namespace crashkit::admin
