#pragma once
/// Keeping crashkernel= in the boot configuration current (`auto_reset_crashkernel`,
/// `crashkernel auto|VALUE`) without ever overwriting a value an administrator chose.
///
/// crashkit remembers what it last wrote (ROOT/var/lib/crashkit/crashkernel.json: the value and
/// who chose it). `crashkit start` then changes the boot configuration only when every place
/// that has crashkernel= still holds exactly that value (nobody edited it since) and
///  - crashkit.conf says `crashkernel VALUE`: the configuration is the administrator's word;
///  - or `crashkernel auto` (the default) and the recorded value was crashkit's own default:
///    it follows the default (a new crashkit or a machine with more memory). A value given with
///    `reset-crashkernel --value` or by hand is kept.
/// Places without crashkernel= (the BLS entry of a kernel installed since) receive it.

#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/bootcfg/reset_plan.hpp"
#include "crashkit/conf/config.hpp"

namespace crashkit::admin {

inline constexpr const char* kCrashkernelRecordFile = "crashkernel.json";

/// Who chose the value crashkit wrote.
enum class ChosenBy { default_value, option, config };

struct CrashkernelRecord {
  std::string value; ///< canonical "crashkernel=..." words; "" when crashkit removed them
  ChosenBy chosen_by = ChosenBy::default_value;
};

/// ROOT/var/lib/crashkit/crashkernel.json; nullopt when crashkit never wrote crashkernel=.
/// Errors: data naming the file when it is not what write_crashkernel_record writes.
Result<std::optional<CrashkernelRecord>> read_crashkernel_record(const std::string& root);
Status write_crashkernel_record(const std::string& root, const CrashkernelRecord& record);

/// Carries out `plan` (bootcfg::execute_plan) and records `record` as what crashkit wrote, so
/// that `start` knows the value is its own. Errors: execute_plan's, then the record's write.
Status apply_crashkernel_plan(const std::string& root, const bootcfg::ResetPlan& plan,
                              const CrashkernelRecord& record);

/// `crashkit reset-crashkernel`'s plan: `value` ("off" removes crashkernel=), or without one
/// the default for this machine (default_crashkernel.hpp); and the record to keep once it is
/// carried out. Errors: no default for this machine, a value that does not parse, plan_reset's.
struct CrashkernelReset {
  bootcfg::ResetPlan plan;
  CrashkernelRecord record;
};
Result<CrashkernelReset> plan_crashkernel_reset(bootcfg::ResetRequest req,
                                                const std::optional<std::string>& value);

/// The decision for one plan (pure): whether to carry it out, and why (for the log).
struct UpkeepDecision {
  bool apply = false;
  std::string why;
  /// The administrator should hear why (a hand edit blocks crashkit); false for the quiet
  /// cases (already current, never managed, removed or chosen on purpose).
  bool tell = false;
};
UpkeepDecision decide_upkeep(const bootcfg::ResetPlan& plan,
                             const std::optional<CrashkernelRecord>& record,
                             const std::string& wanted, bool wanted_from_config);

struct UpkeepReport {
  /// The boot configuration was changed (and the record updated): takes effect at next boot.
  bool changed = false;
  /// What the administrator should read; empty when there is nothing to say (off, already
  /// current, or a value crashkit was never asked to manage).
  std::string message;
  std::string diff; ///< format_plan() of what was written
};

/// Does what the config asks for `start`: nothing with `auto_reset_crashkernel no`; else plans
/// `wanted` (config VALUE, or default_value for `auto`) for every kernel under root and carries
/// it out when decide_upkeep allows. Never fails `start`: problems come back as the message
/// ("auto_reset_crashkernel: ..."), silent when crashkit has no record (it never managed it).
UpkeepReport keep_crashkernel_current(const conf::Config& config, const std::string& root,
                                      const std::string& default_value);

} // namespace crashkit::admin
