#include "crashkit/conf/config.hpp"

#include "crashkit/conf/size.hpp"
#include "crashkit/conf/words.hpp"

namespace crashkit::conf {

std::string Origin::str() const {
  if (line)
    return file + ":" + std::to_string(line);
  return file.empty() ? "default" : file;
}

std::string_view action_name(Action a) {
  switch (a) {
  case Action::reboot:
    return "reboot";
  case Action::halt:
    return "halt";
  case Action::poweroff:
    return "poweroff";
  case Action::shell:
    return "shell";
  case Action::dump_to_rootfs:
    return "dump_to_rootfs";
  }
  return "reboot";
}

std::string DeviceRef::str() const {
  switch (kind) {
  case Kind::uuid:
    return "UUID=" + value;
  case Kind::label:
    return "LABEL=" + value;
  case Kind::path:
    break;
  }
  return value;
}

std::string render_config(const Config& c, bool all) {
  std::string out;
  auto line = [&](std::string_view directive, const std::vector<std::string>& args) {
    out += directive;
    for (const auto& a : args)
      out += ' ' + quote_word(a);
    out += '\n';
  };
  auto want = [&](const Origin& o) { return all || !o.is_default(); };

  if (want(c.target.origin) && c.target.value.kind != Target::Kind::root_fs) {
    const Target& t = c.target.value;
    line(t.kind == Target::Kind::raw ? std::string_view("raw") : std::string_view(t.fstype),
         {t.device.str()});
  }
  if (want(c.path.origin))
    line("path", {c.path.value});
  if (want(c.core_collector.origin))
    line("core_collector", c.core_collector.value.argv);
  if (want(c.extra_modules.origin) && !c.extra_modules.value.empty())
    line("extra_modules", c.extra_modules.value);
  if (want(c.failure_action.origin))
    line("failure_action", {std::string(action_name(c.failure_action.value))});
  if (want(c.final_action.origin))
    line("final_action", {std::string(action_name(c.final_action.value))});
  if (want(c.kdump_pre.origin) && !c.kdump_pre.value.empty())
    line("kdump_pre", c.kdump_pre.value);
  if (want(c.kdump_post.origin) && !c.kdump_post.value.empty())
    line("kdump_post", c.kdump_post.value);
  if (want(c.hook_timeout.origin))
    line("hook_timeout", {std::to_string(c.hook_timeout.value)});
  if (want(c.force_rebuild.origin))
    line("force_rebuild", {c.force_rebuild.value ? "1" : "0"});
  if (want(c.force_no_rebuild.origin))
    line("force_no_rebuild", {c.force_no_rebuild.value ? "1" : "0"});
  if (want(c.auto_reset_crashkernel.origin))
    line("auto_reset_crashkernel", {c.auto_reset_crashkernel.value ? "yes" : "no"});
  if (want(c.keep_dumps.origin))
    line("keep_dumps", {std::to_string(c.keep_dumps.value)});
  if (want(c.min_free.origin))
    line("min_free", {format_size(c.min_free.value)});
  if (want(c.capture_kernel.origin))
    line("capture_kernel",
         {c.capture_kernel.value.running ? "running" : c.capture_kernel.value.path});
  if (want(c.append.origin) && !c.append.value.empty())
    line("append", c.append.value);
  if (want(c.remove.origin) && !c.remove.value.empty())
    line("remove", c.remove.value);
  if (want(c.crashkernel.origin)) {
    if (c.crashkernel.value.automatic) {
      line("crashkernel", {"auto"});
    } else {
      std::vector<std::string> words;
      for (const auto& w : c.crashkernel.value.setting.words)
        words.push_back(format_crashkernel_value(w));
      line("crashkernel", words);
    }
  }
  return out;
}

} // namespace crashkit::conf
