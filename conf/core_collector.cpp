#include "crashkit/conf/core_collector.hpp"

#include <charconv>

namespace crashkit::conf {
namespace {

Error bad(const std::string& what) {
  return Error(ErrorCategory::data, what);
}

std::optional<long long> to_int(std::string_view s) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

std::string_view basename(std::string_view p) {
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

// makedumpfile's options without a crashkit-capture equivalent that take an argument, so an
// unmapped one swallows it too (makedumpfile(8)).
bool makedumpfile_short_takes_arg(char c) {
  return c == 'x' || c == 'i' || c == 'g' || c == 'b' || c == 'L' || c == 'C';
}
bool makedumpfile_long_takes_arg(std::string_view name) {
  for (std::string_view n : {"cyclic-buffer", "splitblock-size", "work-dir", "config", "eppic",
                             "partial-dmesg", "vtop", "mem-usage-file"})
    if (name == n)
      return true;
  return false;
}

// The message for VALUE (the offending BAD part of it) outside the domain of OPT, spelled SPELLED.
Error bad_value(const capture::CaptureOption& opt, const std::string& spelled,
                const std::string& value, const std::string& bad_part) {
  using capture::OptionValue;
  const std::string range = std::to_string(opt.min) + "-" + std::to_string(opt.max);
  if (opt.value == OptionValue::dump_levels)
    return bad("core_collector: dump level '" + bad_part + "' is not a number " + range);
  if (opt.value == OptionValue::choice)
    return bad("core_collector: " + spelled + " takes " + std::string(opt.choices) + ", not '" +
               value + "'");
  if (!to_int(value))
    return bad("core_collector: " + spelled + " needs a number, not '" + value + "'");
  return bad("core_collector: " + spelled + " takes " + range + ", not '" + value + "'");
}

} // namespace

CoreCollector default_core_collector() {
  CoreCollector c;
  c.argv = {"crashkit-capture", "-d", "31"};
  c.settings.dump_levels = {31};
  return c;
}

Result<CoreCollector> parse_core_collector(const std::vector<std::string>& argv) {
  CoreCollector c;
  c.argv = argv;
  if (argv.empty())
    return bad("core_collector needs a command");
  std::string_view prog = basename(argv[0]);
  if (prog == "crashkit-capture")
    c.program = CollectorProgram::crashkit_capture;
  else if (prog == "makedumpfile")
    c.program = CollectorProgram::makedumpfile;
  else
    return Error(ErrorCategory::unsupported,
                 "core_collector " + std::string(prog) +
                     " is not supported: use crashkit-capture or makedumpfile options");
  const bool own = c.program == CollectorProgram::crashkit_capture;

  // One option as written (SPELLED, its VALUE or ""): stored in the settings when this line may
  // use it, else listed as unmapped (AS_WRITTEN).
  auto take = [&](const std::string& spelled, const std::string& value,
                  std::string as_written) -> Status {
    const capture::CaptureOption* opt = capture::find_capture_option(spelled);
    if (!opt || !opt->core_collector || (!own && !opt->makedumpfile)) {
      c.unmapped.push_back(std::move(as_written));
      return {};
    }
    if (auto bad_part = capture::apply_capture_option(c.settings, *opt, value))
      return bad_value(*opt, spelled, value, *bad_part);
    return {};
  };
  auto takes_value = [](const std::string& spelled, bool makedumpfile_takes) {
    const capture::CaptureOption* opt = capture::find_capture_option(spelled);
    return opt ? opt->value != capture::OptionValue::none : makedumpfile_takes;
  };

  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.starts_with("--")) {
      std::string name = a.substr(2);
      std::optional<std::string> value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      const bool needs = takes_value("--" + name, makedumpfile_long_takes_arg(name));
      if (needs && !value) {
        if (i + 1 >= argv.size())
          return bad("core_collector: --" + name + " needs a value");
        value = argv[++i];
      }
      if (!needs && value)
        return bad("core_collector: --" + name + " takes no value");
      CK_TRY(take("--" + name, value.value_or(""),
                  a.find('=') == std::string::npos && value ? a + "=" + *value : a));
      continue;
    }
    if (a.size() < 2 || a[0] != '-')
      return bad("core_collector: unexpected argument '" + a +
                 "' (input and output are chosen by the capture environment)");
    for (std::size_t j = 1; j < a.size(); ++j) {
      const std::string letter{'-', a[j]};
      if (!takes_value(letter, makedumpfile_short_takes_arg(a[j]))) {
        CK_TRY(take(letter, "", letter));
        continue;
      }
      std::string v = a.substr(j + 1);
      if (v.empty()) {
        if (i + 1 >= argv.size())
          return bad("core_collector: " + letter + " needs a value");
        v = argv[++i];
      }
      CK_TRY(take(letter, v, letter + " " + v));
      break;
    }
  }
  if (own) {
    if (auto st = capture::check_capture_settings(c.settings); !st)
      return bad("core_collector: " + st.error().message());
  }
  return c;
}

std::vector<std::string> capture_arguments(const CoreCollector& c) {
  return capture::capture_arguments(c.settings);
}

std::vector<std::string> capture_argv(const CoreCollector& c) {
  std::vector<std::string> argv{"crashkit-capture"};
  for (auto& a : capture_arguments(c))
    argv.push_back(std::move(a));
  return argv;
}

} // namespace crashkit::conf
