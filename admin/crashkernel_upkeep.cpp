#include "crashkit/admin/crashkernel_upkeep.hpp"

#include <spdlog/spdlog.h>

#include <iterator>

#include "crashkit/admin/default_crashkernel.hpp"
#include "state_file.hpp"

namespace crashkit::admin {
namespace {

constexpr const char* kChosenNames[] = {"default", "--value", "crashkit.conf"};

std::string shown(const std::string& value) {
  return value.empty() ? "no crashkernel=" : value;
}

} // namespace

Result<std::optional<CrashkernelRecord>> read_crashkernel_record(const std::string& root) {
  const std::string path = state_path(root, kCrashkernelRecordFile);
  auto read = CK_TRY(read_state_json(path));
  if (!read)
    return std::optional<CrashkernelRecord>{};
  const nlohmann::json& j = *read;
  try {
    CrashkernelRecord r;
    r.value = j.at("value").get<std::string>();
    const auto by = j.at("chosen_by").get<std::string>();
    std::size_t i = 0;
    while (i < std::size(kChosenNames) && by != kChosenNames[i])
      ++i;
    if (i == std::size(kChosenNames))
      return Error(ErrorCategory::data, "chosen_by '" + by + "' is not one crashkit writes")
          .with_path(path);
    r.chosen_by = static_cast<ChosenBy>(i);
    return std::optional<CrashkernelRecord>(std::move(r));
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCategory::data, std::string("not crashkit's record: ") + e.what())
        .with_path(path);
  }
}

Status write_crashkernel_record(const std::string& root, const CrashkernelRecord& record) {
  nlohmann::json j{{"value", record.value},
                   {"chosen_by", kChosenNames[static_cast<int>(record.chosen_by)]}};
  return write_state_json(state_path(root, kCrashkernelRecordFile), j);
}

Status apply_crashkernel_plan(const std::string& root, const bootcfg::ResetPlan& plan,
                              const CrashkernelRecord& record) {
  CK_TRY(bootcfg::execute_plan(plan));
  return write_crashkernel_record(root, record);
}

Result<CrashkernelReset> plan_crashkernel_reset(bootcfg::ResetRequest req,
                                                const std::optional<std::string>& value) {
  std::string fallback;
  if (!value)
    fallback = CK_TRY(default_crashkernel(running_machine()));
  req.setting = CK_TRY(bootcfg::resolve_crashkernel_value(
      value ? std::optional<std::string_view>(*value) : std::nullopt, fallback));
  CrashkernelReset out;
  out.plan = CK_TRY(bootcfg::plan_reset(req));
  out.record = {conf::format_crashkernel(req.setting),
                value ? ChosenBy::option : ChosenBy::default_value};
  return out;
}

UpkeepDecision decide_upkeep(const bootcfg::ResetPlan& plan,
                             const std::optional<CrashkernelRecord>& record,
                             const std::string& wanted, bool wanted_from_config) {
  if (plan.edits.empty() && plan.commands.empty())
    return {false, "crashkernel= is already " + shown(wanted)};
  if (!record)
    return {false, "crashkit never wrote crashkernel= here (run `crashkit reset-crashkernel` "
                   "once to let it keep the value current)"};
  if (record->value.empty())
    return {false, "crashkernel= was removed with `crashkit reset-crashkernel --value off`"};
  if (!wanted_from_config && record->chosen_by == ChosenBy::option)
    return {false, record->value + " was chosen with `crashkit reset-crashkernel --value`; kept"};
  bool seen = false;
  for (const auto& c : plan.current) {
    if (!c.setting)
      return {false, c.where + ": its crashkernel= does not parse; left alone", true};
    const std::string now = conf::format_crashkernel(*c.setting);
    if (now.empty())
      continue; // e.g. the entry of a kernel installed since: it gets the value
    if (now != record->value)
      return {false,
              c.where + " holds " + now + ", not the " + record->value +
                  " crashkit wrote: it was changed by hand, so it is left alone (crashkit "
                  "would write " +
                  shown(wanted) + "; `crashkit reset-crashkernel` does it)",
              true};
    seen = true;
  }
  if (!seen)
    return {false,
            "the " + record->value +
                " crashkit wrote was removed by hand everywhere; left without crashkernel=",
            true};
  return {true, "the boot configuration holds the " + record->value + " crashkit wrote"};
}

namespace {

constexpr const char* kWhat = "auto_reset_crashkernel: ";

// keep_crashkernel_current with its failures as errors, turned into the message once.
Result<UpkeepReport> upkeep(const conf::Config& config, const std::string& root,
                            const std::string& default_value) {
  UpkeepReport rep;
  auto record = CK_TRY(read_crashkernel_record(root));
  // Never managed by crashkit: the boot configuration is the administrator's alone.
  if (!record)
    return rep;

  const auto& choice = config.crashkernel.value;
  conf::CrashkernelSetting setting;
  if (choice.automatic) {
    if (default_value.empty())
      return rep; // no default for this architecture
    setting = CK_TRY(bootcfg::resolve_crashkernel_value(std::nullopt, default_value));
  } else {
    setting = choice.setting;
  }
  const std::string wanted = conf::format_crashkernel(setting);

  bootcfg::ResetRequest req;
  req.root = root; // "" is the running system to plan_reset too
  req.setting = setting;
  auto plan = CK_TRY(bootcfg::plan_reset(req));
  const auto d = decide_upkeep(plan, record, wanted, !choice.automatic);
  if (!d.apply) {
    spdlog::debug("{}{}", kWhat, d.why);
    if (d.tell)
      rep.message = kWhat + d.why;
    return rep;
  }
  const CrashkernelRecord fresh{wanted,
                                choice.automatic ? ChosenBy::default_value : ChosenBy::config};
  CK_TRY(apply_crashkernel_plan(root, plan, fresh));
  rep.changed = true;
  rep.diff = bootcfg::format_plan(plan);
  std::string where;
  for (const auto& s : plan.sources)
    where += (where.empty() ? "" : ", ") + s;
  rep.message = "crashkernel= changed from " + record->value + " to " + shown(wanted) + " in " +
                where + " (" + (choice.automatic ? "crashkit's default" : "crashkit.conf") +
                "); it takes effect at the next boot";
  return rep;
}

} // namespace

UpkeepReport keep_crashkernel_current(const conf::Config& config, const std::string& root,
                                      const std::string& default_value) {
  if (!config.auto_reset_crashkernel.value)
    return {};
  auto rep = upkeep(config, root, default_value);
  if (!rep) {
    UpkeepReport failed;
    failed.message = kWhat + rep.error().message();
    return failed;
  }
  return std::move(rep).value();
}

} // namespace crashkit::admin
