#include "capture_options.hpp"

#include <CLI/CLI.hpp>

#include <sstream>

#include "crashkit/capture/capture_options.hpp"

namespace crashkit::cli {
namespace {

using capture::CaptureOption;
using capture::OptionId;
using capture::OptionValue;

// A table option as CLI11 shows and checks it; the value is kept as given for
// capture::apply_capture_option.
CLI::Option* add_table_option(CLI::App& app, const CaptureOption& spec, std::string& value) {
  const std::string names(spec.names), help(spec.help);
  if (spec.value == OptionValue::none)
    return app.add_flag(names, help);
  CLI::Option* opt = app.add_option(names, value, help)->type_name(std::string(spec.type_name));
  if (spec.value == OptionValue::number && spec.type_name == "UINT")
    opt->check(CLI::Range(static_cast<unsigned>(spec.min), static_cast<unsigned>(spec.max)));
  else if (spec.value == OptionValue::number)
    opt->check(CLI::Range(spec.min, spec.max));
  if (spec.value == OptionValue::choice) {
    std::vector<std::string> choices;
    std::stringstream ss{std::string(spec.choices)};
    for (std::string c; std::getline(ss, c, '|');)
      choices.push_back(c);
    opt->check(CLI::IsMember(choices));
  }
  if (spec.id == OptionId::dump_level)
    opt->default_str("31");
  return opt;
}

} // namespace

Result<CaptureOptions> parse_capture_options(int argc, char** argv) {
  CaptureOptions o;
  CLI::App app{"crashkit-capture: write a filtered, compressed dump of a crashed kernel's memory "
               "(/proc/vmcore) that crash and gdb open"};
  app.set_version_flag("--version", "crashkit-capture 0.1");
  const auto table = capture::capture_options();
  std::vector<std::string> values(table.size());
  std::vector<CLI::Option*> options;
  for (std::size_t i = 0; i < table.size(); ++i)
    options.push_back(add_table_option(app, table[i], values[i]));
  std::vector<std::string> pos;
  app.add_option("args", pos,
                 "VMCORE OUTPUT | VMCORE (-F) | OUTPUT (-R) | VMCORE FILE (--dump-dmesg)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    o.help = app.help();
    return o;
  } catch (const CLI::CallForVersion&) {
    o.help = "crashkit-capture 0.1";
    return o;
  } catch (const CLI::ParseError& e) {
    return Error(ErrorCategory::usage, e.what());
  }

  capture::CaptureSettings& s = o.settings;
  bool reassemble = false, dmesg = false;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (options[i]->count() == 0)
      continue;
    const OptionId id = table[i].id;
    if (auto bad = capture::apply_capture_option(s, table[i], values[i])) {
      if (id != OptionId::dump_level) // CLI11 checked the others' values
        return Error(ErrorCategory::usage, std::string(table[i].names) + ": '" + *bad + "'");
      if (values[i].empty())
        return Error(ErrorCategory::usage, "-d/--dump-level: empty level list");
      return Error(ErrorCategory::usage, "-d/--dump-level: '" + *bad + "' is not a dump level " +
                                             std::to_string(table[i].min) + ".." +
                                             std::to_string(table[i].max));
    }
    reassemble |= id == OptionId::reassemble;
    dmesg |= id == OptionId::dump_dmesg;
    o.progress |= id == OptionId::progress;
    o.json |= id == OptionId::json;
  }
  CK_TRY(capture::check_capture_settings(s));
  o.request = capture::capture_request(s, {});
  if (!s.dump_levels.empty())
    o.dump_levels = s.dump_levels;
  o.force = s.force;
  if (s.message_level)
    o.message_level = *s.message_level;
  o.message_level_given = s.message_level.has_value();
  const bool flat_format = s.format == capture::OutputFormat::flat;

  const int modes = int(reassemble) + int(dmesg) + int(flat_format);
  if (modes > 1)
    return Error(ErrorCategory::usage, "-R, -F and --dump-dmesg exclude each other");
  if (reassemble) {
    if (pos.size() != 1)
      return Error(ErrorCategory::usage, "-R takes exactly one OUTPUT");
    o.mode = CaptureMode::reassemble;
    o.output = pos[0];
    return o;
  }
  if (dmesg) {
    if (pos.size() != 2)
      return Error(ErrorCategory::usage, "--dump-dmesg takes VMCORE FILE");
    o.mode = CaptureMode::dmesg;
    o.request.vmcore = pos[0];
    o.output = pos[1];
    return o;
  }
  if (flat_format) {
    // -F writes to stdout (makedumpfile); --format flat also accepts an OUTPUT file.
    if (pos.empty() || pos.size() > 2)
      return Error(ErrorCategory::usage, "-F takes VMCORE (stream on stdout) [or VMCORE OUTPUT]");
    o.mode = pos.size() == 1 ? CaptureMode::flat_stdout : CaptureMode::dump;
    o.request.vmcore = pos[0];
    if (pos.size() == 2)
      o.output = pos[1];
    if (o.mode == CaptureMode::flat_stdout && o.json)
      return Error(ErrorCategory::usage,
                   "--json needs an OUTPUT file when the stream goes to stdout");
    o.flat = true;
    return o;
  }
  if (pos.size() != 2)
    return Error(ErrorCategory::usage, "expected VMCORE OUTPUT (see --help)");
  o.request.vmcore = pos[0];
  o.output = pos[1];
  return o;
}

} // namespace crashkit::cli
