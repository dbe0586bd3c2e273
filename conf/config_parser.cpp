#include "crashkit/conf/config_parser.hpp"

#include "crashkit/base/io.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>

#include "crashkit/conf/size.hpp"
#include "crashkit/conf/words.hpp"

namespace crashkit::conf {
namespace {

using Args = std::vector<std::string>;

// A handler checks the arguments of one directive and stores them; it returns an error message
// (without the FILE:LINE: prefix) or "".
using Handler = std::function<std::string(Config&, const Args&, const Origin&)>;

struct Directive {
  std::string_view slot; // directives sharing a slot set the same setting
  Handler handle;
};

std::string need_one(std::string_view name, const Args& a) {
  if (a.empty())
    return std::string(name) + " needs a value";
  if (a.size() > 1)
    return std::string(name) + " takes one value, got " + std::to_string(a.size());
  return "";
}

std::string need_some(std::string_view name, const Args& a) {
  return a.empty() ? std::string(name) + " needs a value" : "";
}

std::optional<bool> to_bool(std::string_view v) {
  if (v == "1" || v == "yes" || v == "true")
    return true;
  if (v == "0" || v == "no" || v == "false")
    return false;
  return std::nullopt;
}

// kdump.conf allows a whole command in double quotes (core_collector "makedumpfile -l -d 31");
// kdumpctl strips the quotes and lets the shell split the rest. When a command directive has one
// word written in double quotes, split that word once more (still without a shell). A single-
// quoted word stays one word, so '/opt/my hooks/pre' keeps its space.
bool is_command_directive(std::string_view d) {
  return d == "core_collector" || d == "kdump_pre" || d == "kdump_post";
}

Args resplit_quoted_command(std::string_view line, const Args& a) {
  if (a.size() != 1)
    return a;
  std::size_t i = line.find_first_not_of(" \t");
  i = line.find_first_of(" \t", i);
  i = line.find_first_not_of(" \t", i);
  if (i == std::string_view::npos || line[i] != '"')
    return a;
  auto again = split_words(a[0]);
  return again && !again->empty() ? *again : a;
}

bool valid_module_name(std::string_view m) {
  if (m.empty())
    return false;
  return std::all_of(m.begin(), m.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string parse_device(std::string_view directive, const std::string& v, DeviceRef& out,
                         bool names_allowed) {
  if (v.starts_with("/dev/") && v.size() > 5) {
    out = {DeviceRef::Kind::path, v};
    return "";
  }
  if (names_allowed && v.starts_with("UUID=") && v.size() > 5) {
    out = {DeviceRef::Kind::uuid, v.substr(5)};
    return "";
  }
  if (names_allowed && v.starts_with("LABEL=") && v.size() > 6) {
    out = {DeviceRef::Kind::label, v.substr(6)};
    return "";
  }
  if (!names_allowed)
    return std::string(directive) + " needs a /dev/... device, not '" + v + "'";
  return std::string(directive) + " needs /dev/..., UUID=... or LABEL=..., not '" + v + "'";
}

template <typename T> void set(Sourced<T>& field, T value, const Origin& o) {
  field.value = std::move(value);
  field.origin = o;
}

Handler bool_handler(Sourced<bool> Config::*field, std::string_view name) {
  return [field, name](Config& c, const Args& a, const Origin& o) -> std::string {
    if (auto e = need_one(name, a); !e.empty())
      return e;
    auto b = to_bool(a[0]);
    if (!b)
      return std::string(name) + " takes 0 or 1 (or yes/no, true/false), not '" + a[0] + "'";
    set(c.*field, *b, o);
    return "";
  };
}

/// A whole number of which 0 has a meaning of its own (`zero`: "keeps all").
Handler count_handler(Sourced<std::uint64_t> Config::*field, std::string_view name,
                      std::string_view zero) {
  return [field, name, zero](Config& c, const Args& a, const Origin& o) -> std::string {
    if (auto e = need_one(name, a); !e.empty())
      return e;
    std::uint64_t n = 0;
    const std::string& v = a[0];
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size())
      return std::string(name) + " needs a whole number (0 " + std::string(zero) + "), not '" + v +
             "'";
    set(c.*field, n, o);
    return "";
  };
}

Handler action_handler(Sourced<Action> Config::*field, std::string_view name, bool final) {
  return [field, name, final](Config& c, const Args& a, const Origin& o) -> std::string {
    if (auto e = need_one(name, a); !e.empty())
      return e;
    // The names are action_name()'s, so parsing and printing cannot disagree.
    for (Action act :
         {Action::reboot, Action::halt, Action::poweroff, Action::shell, Action::dump_to_rootfs}) {
      if (final && (act == Action::shell || act == Action::dump_to_rootfs))
        continue;
      if (a[0] == action_name(act)) {
        set(c.*field, act, o);
        return "";
      }
    }
    return std::string(name) + " takes " +
           (final ? "reboot, halt or poweroff"
                  : "reboot, halt, poweroff, shell or dump_to_rootfs") +
           ", not '" + a[0] + "'";
  };
}

Handler hook_handler(Sourced<Args> Config::*field, std::string_view name) {
  return [field, name](Config& c, const Args& a, const Origin& o) -> std::string {
    if (auto e = need_some(name, a); !e.empty())
      return e;
    Args argv = a;
    if (argv[0].empty() || argv[0][0] != '/')
      return std::string(name) + " needs an absolute path to an executable, not '" + argv[0] + "'";
    set(c.*field, std::move(argv), o);
    return "";
  };
}

Handler filesystem_target(std::string_view fstype) {
  return [fstype](Config& c, const Args& a, const Origin& o) -> std::string {
    if (auto e = need_one(fstype, a); !e.empty())
      return e;
    Target t;
    t.kind = Target::Kind::filesystem;
    t.fstype = fstype;
    if (auto e = parse_device(fstype, a[0], t.device, true); !e.empty())
      return e;
    set(c.target, std::move(t), o);
    return "";
  };
}

Handler refuse(std::string message) {
  return [message](Config&, const Args&, const Origin&) { return message; };
}

const std::map<std::string, Directive, std::less<>>& directives() {
  static const std::map<std::string, Directive, std::less<>> table = [] {
    std::map<std::string, Directive, std::less<>> t;
    t["path"] = {"path", [](Config& c, const Args& a, const Origin& o) -> std::string {
                   if (auto e = need_one("path", a); !e.empty())
                     return e;
                   if (a[0].empty() || a[0][0] != '/')
                     return "path must be absolute, not '" + a[0] + "'";
                   set(c.path, a[0], o);
                   return "";
                 }};
    t["core_collector"] = {
        "core_collector", [](Config& c, const Args& a, const Origin& o) -> std::string {
          if (auto e = need_some("core_collector", a); !e.empty())
            return e;
          auto cc = parse_core_collector(a);
          if (!cc)
            return cc.error().what();
          if (!cc->unmapped.empty()) {
            std::string list;
            for (const auto& u : cc->unmapped)
              list += (list.empty() ? "" : ", ") + u;
            return "core_collector: crashkit-capture has no equivalent for " + list;
          }
          set(c.core_collector, std::move(*cc), o);
          return "";
        }};
    for (std::string_view fs : {"ext4", "xfs", "btrfs", "ext3", "ext2"})
      t[std::string(fs)] = {"target", filesystem_target(fs)};
    t["raw"] = {"target", [](Config& c, const Args& a, const Origin& o) -> std::string {
                  if (auto e = need_one("raw", a); !e.empty())
                    return e;
                  Target tg;
                  tg.kind = Target::Kind::raw;
                  if (auto e = parse_device("raw", a[0], tg.device, false); !e.empty())
                    return e;
                  set(c.target, std::move(tg), o);
                  return "";
                }};
    // Network targets are read (so a typo gets its own message) and then refused.
    t["ssh"] = {"target", [](Config&, const Args& a, const Origin&) -> std::string {
                  if (auto e = need_one("ssh", a); !e.empty())
                    return e;
                  auto at = a[0].find('@');
                  if (at == std::string::npos || at == 0 || at + 1 == a[0].size())
                    return "ssh needs user@host, not '" + a[0] + "'";
                  return "ssh targets are not supported yet";
                }};
    t["nfs"] = {"target", [](Config&, const Args& a, const Origin&) -> std::string {
                  if (auto e = need_one("nfs", a); !e.empty())
                    return e;
                  auto colon = a[0].find(":/");
                  if (colon == std::string::npos || colon == 0)
                    return "nfs needs server:/export, not '" + a[0] + "'";
                  return "nfs targets are not supported yet";
                }};
    for (std::string_view fs : {"minix", "virtiofs"})
      t[std::string(fs)] = {"target", refuse(std::string(fs) + " targets are not supported")};
    t["extra_modules"] = {"extra_modules",
                          [](Config& c, const Args& a, const Origin& o) -> std::string {
                            if (auto e = need_some("extra_modules", a); !e.empty())
                              return e;
                            for (const auto& m : a)
                              if (!valid_module_name(m))
                                return "extra_modules: '" + m + "' is not a module name";
                            set(c.extra_modules, a, o);
                            return "";
                          }};
    t["failure_action"] = {"failure_action",
                           action_handler(&Config::failure_action, "failure_action", false)};
    // kdump.conf's deprecated spelling of failure_action.
    t["default"] = {"failure_action", action_handler(&Config::failure_action, "default", false)};
    t["final_action"] = {"final_action",
                         action_handler(&Config::final_action, "final_action", true)};
    t["kdump_pre"] = {"kdump_pre", hook_handler(&Config::kdump_pre, "kdump_pre")};
    t["kdump_post"] = {"kdump_post", hook_handler(&Config::kdump_post, "kdump_post")};
    t["force_rebuild"] = {"force_rebuild", bool_handler(&Config::force_rebuild, "force_rebuild")};
    t["force_no_rebuild"] = {"force_no_rebuild",
                             bool_handler(&Config::force_no_rebuild, "force_no_rebuild")};
    t["auto_reset_crashkernel"] = {
        "auto_reset_crashkernel",
        bool_handler(&Config::auto_reset_crashkernel, "auto_reset_crashkernel")};
    t["keep_dumps"] = {"keep_dumps", count_handler(&Config::keep_dumps, "keep_dumps", "keeps all")};
    t["hook_timeout"] = {"hook_timeout",
                         count_handler(&Config::hook_timeout, "hook_timeout", "means no limit")};
    t["min_free"] = {"min_free", [](Config& c, const Args& a, const Origin& o) -> std::string {
                       if (auto e = need_one("min_free", a); !e.empty())
                         return e;
                       auto s = parse_size(a[0]);
                       if (!s)
                         return "min_free: " + s.error().what();
                       set(c.min_free, *s, o);
                       return "";
                     }};
    t["capture_kernel"] = {
        "capture_kernel", [](Config& c, const Args& a, const Origin& o) -> std::string {
          if (auto e = need_one("capture_kernel", a); !e.empty())
            return e;
          CaptureKernel k;
          if (a[0] != "running") {
            if (a[0].empty() || a[0][0] != '/')
              return "capture_kernel takes an absolute path or 'running', not '" + a[0] + "'";
            k.running = false;
            k.path = a[0];
          }
          set(c.capture_kernel, std::move(k), o);
          return "";
        }};
    t["append"] = {"append", [](Config& c, const Args& a, const Origin& o) -> std::string {
                     if (auto e = need_some("append", a); !e.empty())
                       return e;
                     for (const auto& p : a)
                       if (p.starts_with("crashkernel="))
                         return "append: the capture kernel must not get crashkernel= ('" + p +
                                "')";
                     set(c.append, a, o);
                     return "";
                   }};
    t["remove"] = {"remove", [](Config& c, const Args& a, const Origin& o) -> std::string {
                     if (auto e = need_some("remove", a); !e.empty())
                       return e;
                     for (const auto& p : a)
                       if (p.find('=') != std::string::npos)
                         return "remove takes parameter names, not '" + p + "'";
                     set(c.remove, a, o);
                     return "";
                   }};
    t["crashkernel"] = {"crashkernel",
                        [](Config& c, const Args& a, const Origin& o) -> std::string {
                          if (auto e = need_some("crashkernel", a); !e.empty())
                            return e;
                          CrashkernelChoice ch;
                          if (a.size() == 1 && a[0] == "auto") {
                            set(c.crashkernel, std::move(ch), o);
                            return "";
                          }
                          std::string joined;
                          for (const auto& w : a)
                            joined += (joined.empty() ? "" : " ") + w;
                          auto s = parse_crashkernel(joined);
                          if (!s)
                            return s.error().what();
                          ch.automatic = false;
                          ch.setting = std::move(*s);
                          set(c.crashkernel, std::move(ch), o);
                          return "";
                        }};
    for (std::string_view d : {"sshkey", "kdump_emergency", "extra_bins", "dracut_args",
                               "fence_kdump_args", "fence_kdump_nodes"})
      t[std::string(d)] = {d, refuse("'" + std::string(d) +
                                     "' is a kdump.conf directive crashkit does not support")};
    for (std::string_view d :
         {"net", "options", "link_delay", "disk_timeout", "debug_mem_level", "blacklist"})
      t[std::string(d)] = {d, refuse("'" + std::string(d) +
                                     "' is a deprecated kdump.conf directive, not supported")};
    return t;
  }();
  return table;
}

} // namespace

std::string Diagnostic::str() const {
  if (origin.file.empty() && origin.line == 0)
    return message;
  return origin.str() + ": " + message;
}

std::string ConfigParse::error_text() const {
  std::string s;
  for (const auto& d : errors)
    s += d.str() + "\n";
  return s;
}

Result<Config> ConfigParse::into_result() && {
  if (ok())
    return std::move(config);
  std::string text = error_text();
  text.pop_back();
  return Error(ErrorCategory::data, std::move(text));
}

void ConfigParser::add_error(Origin origin, std::string message) {
  errors_.push_back({std::move(origin), std::move(message)});
}

void ConfigParser::add_text(const std::string& file, std::string_view text) {
  config_.files.push_back(file);
  // First line of each slot in this file, and the directive used there.
  std::map<std::string_view, std::pair<unsigned, std::string>> seen;
  unsigned line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (nl == text.size() && line.empty())
      break;
    Origin origin{file, line_no};
    auto words = split_words(line);
    if (!words) {
      add_error(origin, words.error().what());
      continue;
    }
    if (words->empty())
      continue;
    std::string name = words->front();
    Args args(words->begin() + 1, words->end());
    auto it = directives().find(name);
    if (it == directives().end()) {
      add_error(origin, "unknown directive '" + name + "'");
      continue;
    }
    const Directive& d = it->second;
    auto [prev, fresh] = seen.try_emplace(d.slot, line_no, name);
    if (!fresh) {
      if (d.slot == "target")
        add_error(origin, "second dump target '" + name + "' (the first is '" +
                              prev->second.second + "' at line " +
                              std::to_string(prev->second.first) + "): only one is allowed");
      else if (prev->second.second != name)
        add_error(origin, "'" + name + "' repeats '" + prev->second.second + "' of line " +
                              std::to_string(prev->second.first));
      else
        add_error(origin, "duplicate directive '" + name + "' (first at line " +
                              std::to_string(prev->second.first) + ")");
      continue;
    }
    if (is_command_directive(name))
      args = resplit_quoted_command(line, args);
    if (import_mode_ && name == "core_collector") {
      if (auto cc = parse_core_collector(args); cc && !args.empty()) {
        Args mapped = capture_argv(*cc);
        if (!cc->unmapped.empty()) {
          std::string list;
          for (const auto& u : cc->unmapped)
            list += (list.empty() ? "" : ", ") + u;
          notes_.push_back(
              {origin, "core_collector: dropped " + list + " (no crashkit-capture equivalent)"});
        }
        if (mapped != args)
          notes_.push_back({origin, "core_collector becomes " + join_words(mapped)});
        args = std::move(mapped);
      }
    }
    if (std::string e = d.handle(config_, args, origin); !e.empty())
      add_error(origin, e);
  }
}

ConfigParse ConfigParser::finish() && {
  const Config& c = config_;
  // Files are ordered by when they were read (Config::files), lines within a file.
  auto file_index = [&](const Origin& o) {
    auto it = std::find(c.files.begin(), c.files.end(), o.file);
    return it - c.files.begin();
  };
  auto last_of = [&](const Origin& a, const Origin& b) {
    if (file_index(a) != file_index(b))
      return file_index(a) > file_index(b) ? a : b;
    return a.line > b.line ? a : b;
  };
  if (c.force_rebuild.value && c.force_no_rebuild.value) {
    bool revert = import_mode_;
    Origin at = last_of(c.force_rebuild.origin, c.force_no_rebuild.origin);
    const Origin& other =
        at == c.force_rebuild.origin ? c.force_no_rebuild.origin : c.force_rebuild.origin;
    add_error(at,
              std::string(at == c.force_rebuild.origin ? "force_rebuild 1" : "force_no_rebuild 1") +
                  " conflicts with " +
                  (at == c.force_rebuild.origin ? "force_no_rebuild 1" : "force_rebuild 1") +
                  " at " + other.str());
    if (revert) {
      config_.force_rebuild = {false, {}};
      config_.force_no_rebuild = {false, {}};
    }
  }
  if (c.target.value.kind == Target::Kind::raw && c.core_collector.value.settings.format &&
      *c.core_collector.value.settings.format == capture::OutputFormat::elf) {
    Origin at = last_of(c.target.origin, c.core_collector.origin);
    const Origin& other = at == c.target.origin ? c.core_collector.origin : c.target.origin;
    add_error(at,
              "a raw target takes the flattened or kdump format, not ELF (-E); see " + other.str());
  }
  ConfigParse out;
  out.config = std::move(config_);
  out.errors = std::move(errors_);
  out.notes = std::move(notes_);
  return out;
}

ConfigParse parse_config_text(std::string_view text, const std::string& file) {
  ConfigParser p;
  p.add_text(file, text);
  return std::move(p).finish();
}

ConfigParse load_config_files(const std::string& main_file, const std::string& dropin_dir) {
  namespace fs = std::filesystem;
  ConfigParser p;
  // A missing crashkit.conf is the defaults; any other failure to read is an error.
  if (auto text = read_whole_file(main_file))
    p.add_text(main_file, *text);
  else if (text.error().sys_errno() != ENOENT)
    p.add_error({main_file, 0},
                std::string("cannot read: ") + std::strerror(text.error().sys_errno()));

  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(dropin_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() > 5 && name.ends_with(".conf") && name[0] != '.')
      names.push_back(name);
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    p.add_error({dropin_dir, 0}, "cannot list: " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string path = dropin_dir + "/" + name;
    std::error_code sec;
    if (fs::is_directory(path, sec))
      continue;
    if (auto text = read_whole_file(path))
      p.add_text(path, *text);
    else
      p.add_error({path, 0},
                  std::string("cannot read: ") + std::strerror(text.error().sys_errno()));
  }
  return std::move(p).finish();
}

ConfigParse load_config(const std::string& root) {
  std::string r = root;
  while (!r.empty() && r.back() == '/')
    r.pop_back();
  return load_config_files(r + std::string(kConfigFile), r + std::string(kDropInDir));
}

} // namespace crashkit::conf
