#include "crashkit/conf/import.hpp"

#include <algorithm>
#include <map>

#include "crashkit/conf/words.hpp"

namespace crashkit::conf {
namespace {

using Args = std::vector<std::string>;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_blank(s[b]))
    ++b;
  while (e > b && is_blank(s[e - 1]))
    --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      nl = text.size();
    out.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

// Kernel command line words: split at unquoted blanks, quotes kept for the kernel to see.
Args kernel_words(std::string_view s) {
  Args out;
  std::string w;
  bool quoted = false;
  for (char c : s) {
    if (c == '"')
      quoted = !quoted;
    if (!quoted && (is_blank(c) || c == '\n')) {
      if (!w.empty())
        out.push_back(std::move(w));
      w.clear();
      continue;
    }
    w.push_back(c);
  }
  if (!w.empty())
    out.push_back(std::move(w));
  return out;
}

// Copies every setting src set explicitly into dst, re-attributed to origin.
void merge(Config& dst, const Config& src, const Origin& origin) {
  auto m = [&](auto& d, const auto& s) {
    if (!s.origin.is_default()) {
      d = s;
      d.origin = origin;
    }
  };
  m(dst.path, src.path);
  m(dst.target, src.target);
  m(dst.core_collector, src.core_collector);
  m(dst.extra_modules, src.extra_modules);
  m(dst.failure_action, src.failure_action);
  m(dst.final_action, src.final_action);
  m(dst.kdump_pre, src.kdump_pre);
  m(dst.kdump_post, src.kdump_post);
  m(dst.force_rebuild, src.force_rebuild);
  m(dst.force_no_rebuild, src.force_no_rebuild);
  m(dst.auto_reset_crashkernel, src.auto_reset_crashkernel);
  m(dst.keep_dumps, src.keep_dumps);
  m(dst.min_free, src.min_free);
  m(dst.capture_kernel, src.capture_kernel);
  m(dst.append, src.append);
  m(dst.remove, src.remove);
  m(dst.crashkernel, src.crashkernel);
}

// A shell variable assignment as found in /etc/sysconfig/kdump or /etc/default/kdump-tools.
struct Assignment {
  Origin origin;
  std::string text; // the line, trimmed
  std::string key;
  std::string value;
};

class Importer {
public:
  ImportResult result;

  // Items in the order of the files given, then by line.
  void sort(const std::vector<std::string>& files) {
    auto key = [&](const ImportItem& i) {
      auto it = std::find(files.begin(), files.end(), i.origin.file);
      return std::make_pair(it - files.begin(), i.origin.line);
    };
    auto by = [&](const ImportItem& a, const ImportItem& b) { return key(a) < key(b); };
    std::stable_sort(result.unmapped.begin(), result.unmapped.end(), by);
    std::stable_sort(result.changed.begin(), result.changed.end(), by);
  }

  void unmapped(const Origin& o, std::string text, std::string reason) {
    result.unmapped.push_back({o, std::move(text), std::move(reason)});
  }
  void changed(const Origin& o, std::string text, std::string reason) {
    result.changed.push_back({o, std::move(text), std::move(reason)});
  }

  // Validates one crashkit directive with the real parser and merges it; a refusal becomes an
  // unmapped item naming the original text.
  bool apply(const std::string& directive, const Args& args, const Assignment& a) {
    ConfigParser p(true);
    p.add_text("import", directive + " " + join_words(args));
    ConfigParse parsed = std::move(p).finish();
    if (!parsed.ok()) {
      unmapped(a.origin, a.text, parsed.errors.front().message);
      return false;
    }
    for (const auto& n : parsed.notes)
      changed(a.origin, a.text, n.message);
    merge(result.config, parsed.config, a.origin);
    return true;
  }

  // Reads VAR=value lines. Later assignments of a variable replace earlier ones, as in sh.
  std::vector<Assignment> assignments(std::string_view text, const std::string& file) {
    std::map<std::string, Assignment> last;
    std::vector<std::string> order;
    auto lines = lines_of(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      Origin o{file, static_cast<unsigned>(i + 1)};
      std::string line = trim(lines[i]);
      if (line.empty() || line[0] == '#')
        continue;
      std::string body = line.starts_with("export ") ? trim(line.substr(7)) : line;
      std::size_t eq = body.find('=');
      bool name_ok = eq != std::string::npos && eq > 0;
      for (std::size_t k = 0; name_ok && k < eq; ++k) {
        char c = body[k];
        name_ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (k > 0 && c >= '0' && c <= '9');
      }
      if (!name_ok) {
        unmapped(o, line, "not a VARIABLE=value line; shell code is not evaluated");
        continue;
      }
      std::string raw = body.substr(eq + 1);
      bool single_quoted =
          raw.size() >= 2 && raw.front() == '\'' && raw.find('\'', 1) == raw.size() - 1;
      if (!single_quoted && raw.find_first_of("$`") != std::string::npos) {
        unmapped(o, line, "uses shell expansion, which is not evaluated");
        continue;
      }
      auto words = split_words(raw);
      if (!words || words->size() > 1) {
        unmapped(o, line, "not a single VARIABLE=value assignment; shell code is not evaluated");
        continue;
      }
      Assignment a{o, line, body.substr(0, eq), words->empty() ? "" : words->front()};
      if (!last.contains(a.key))
        order.push_back(a.key);
      last[a.key] = std::move(a);
    }
    std::vector<Assignment> out;
    for (const auto& k : order)
      out.push_back(std::move(last[k]));
    return out;
  }
};

} // namespace

std::string ImportItem::str() const {
  std::string s = origin.str() + ": ";
  if (!text.empty())
    s += text + ": ";
  return s + reason;
}

ImportResult import_kdump_utils(std::string_view kdump_conf, std::string_view sysconfig,
                                const std::string& kdump_conf_name,
                                const std::string& sysconfig_name) {
  Importer im;
  ConfigParser p(true);
  p.add_text(kdump_conf_name, kdump_conf);
  ConfigParse parsed = std::move(p).finish();
  im.result.config = std::move(parsed.config);
  auto lines = lines_of(kdump_conf);
  auto line_text = [&](const Origin& o) {
    return o.line > 0 && o.line <= lines.size() ? trim(lines[o.line - 1]) : std::string();
  };
  for (const auto& e : parsed.errors)
    im.unmapped(e.origin, line_text(e.origin), e.message);
  for (const auto& n : parsed.notes)
    im.changed(n.origin, line_text(n.origin), n.message);

  // kdumpctl strips -F from the collector for filesystem targets; crashkit writes its own
  // kdump format there.
  Config& c = im.result.config;
  if (c.target.value.kind != Target::Kind::raw && c.core_collector.value.settings.format &&
      *c.core_collector.value.settings.format == capture::OutputFormat::flat) {
    c.core_collector.value.settings.format.reset();
    c.core_collector.value.argv = capture_argv(c.core_collector.value);
    im.changed(c.core_collector.origin, line_text(c.core_collector.origin),
               "-F dropped: a filesystem target gets the kdump-compressed format");
  }

  for (const auto& a : im.assignments(sysconfig, sysconfig_name)) {
    if (a.value.empty())
      continue;
    if (a.key == "KDUMP_COMMANDLINE_APPEND") {
      im.apply("append", kernel_words(a.value), a);
    } else if (a.key == "KDUMP_COMMANDLINE_REMOVE") {
      Args names;
      for (const auto& w : kernel_words(a.value)) {
        std::string name = w.substr(0, w.find('='));
        if (name != w)
          im.changed(a.origin, a.text, "'" + w + "' removes every " + name + "= parameter");
        names.push_back(name);
      }
      im.apply("remove", names, a);
    } else if (a.key == "KDUMP_KERNELVER") {
      std::string path = a.value[0] == '/' ? a.value : "/boot/vmlinuz-" + a.value;
      if (im.apply("capture_kernel", {path}, a) && path != a.value)
        im.changed(a.origin, a.text, "capture_kernel " + path);
    } else if (a.key == "KEXEC_ARGS") {
      Args rest;
      for (const auto& w : kernel_words(a.value))
        if (w != "-s" && w != "--kexec-file-syscall")
          rest.push_back(w);
      if (rest.empty())
        im.changed(a.origin, a.text, "crashkit uses kexec_file_load by default");
      else
        im.unmapped(a.origin, a.text, "crashkit takes no extra kexec arguments");
    } else if ((a.key == "KDUMP_BOOTDIR" && a.value == "/boot") ||
               (a.key == "KDUMP_IMG" && a.value == "vmlinuz")) {
      // the defaults, which crashkit follows as well
    } else if (a.key == "KDUMP_COMMANDLINE") {
      im.unmapped(a.origin, a.text,
                  "crashkit starts from /proc/cmdline; express changes with append/remove");
    } else if (a.key == "FADUMP_COMMANDLINE_APPEND") {
      im.unmapped(a.origin, a.text, "fadump is not supported");
    } else {
      im.unmapped(a.origin, a.text, "no crashkit equivalent");
    }
  }
  im.result.config.files = {kdump_conf_name, sysconfig_name};
  im.sort(im.result.config.files);
  return std::move(im.result);
}

ImportResult import_kdump_tools(std::string_view defaults, const std::string& name) {
  Importer im;
  for (const auto& a : im.assignments(defaults, name)) {
    const std::string& k = a.key;
    const std::string& v = a.value;
    if (k == "USE_KDUMP") {
      if (v != "1")
        im.unmapped(a.origin, a.text,
                    "kdump was disabled; crashkit is switched on and off with systemctl");
    } else if (v.empty()) {
      continue;
    } else if (k == "KDUMP_COREDIR") {
      im.apply("path", {v}, a);
    } else if (k == "MAKEDUMP_ARGS") {
      Args argv{"makedumpfile"};
      auto words = split_words(v);
      if (words)
        argv.insert(argv.end(), words->begin(), words->end());
      im.apply("core_collector", argv, a);
    } else if (k == "KDUMP_CMDLINE_APPEND") {
      Args params;
      for (auto& w : kernel_words(v)) {
        if (w.starts_with("systemd.unit="))
          im.changed(a.origin, a.text,
                     "'" + w + "' dropped: the capture initramfs runs crashkit-capture itself");
        else
          params.push_back(std::move(w));
      }
      if (!params.empty())
        im.apply("append", params, a);
    } else if (k == "KDUMP_KERNEL") {
      if (v == "/var/lib/kdump/vmlinuz") {
        im.apply("capture_kernel", {"running"}, a);
        im.changed(a.origin, a.text,
                   "the packaged link to the running kernel: capture_kernel "
                   "running");
      } else {
        im.apply("capture_kernel", {v}, a);
      }
    } else if (k == "KDUMP_INITRD") {
      if (v != "/var/lib/kdump/initrd.img")
        im.unmapped(a.origin, a.text, "crashkit builds its own capture initramfs");
    } else if (k == "KDUMP_NUM_DUMPS") {
      im.apply("keep_dumps", {v}, a);
    } else if (k == "KDUMP_FAIL_CMD") {
      Args w = kernel_words(v);
      std::string cmd = w.empty() ? "" : w[0].substr(w[0].rfind('/') + 1);
      if (cmd == "reboot" || cmd == "halt" || cmd == "poweroff")
        im.apply("failure_action", {cmd}, a);
      else
        im.unmapped(a.origin, a.text,
                    "crashkit runs failure_action (reboot|halt|poweroff|shell|dump_to_rootfs), "
                    "not a command");
    } else if (k == "KDUMP_DUMP_DMESG") {
      if (v != "1")
        im.unmapped(a.origin, a.text, "crashkit always saves the kernel log first");
    } else if (k == "NFS" || k == "SSH" || k == "FTP") {
      im.unmapped(a.origin, a.text, "network targets are not supported yet");
    } else if (k == "KDUMP_CMDLINE") {
      im.unmapped(a.origin, a.text,
                  "crashkit starts from /proc/cmdline; express changes with append/remove");
    } else if (k == "KDUMP_COMPRESSION") {
      im.unmapped(a.origin, a.text,
                  "crashkit compresses pages inside the dump (core_collector options)");
    } else if (k == "KDUMP_KEXEC_ARGS") {
      Args rest;
      for (const auto& w : kernel_words(v))
        if (w != "-s" && w != "--kexec-file-syscall")
          rest.push_back(w);
      if (!rest.empty())
        im.unmapped(a.origin, a.text, "crashkit takes no extra kexec arguments");
    } else {
      im.unmapped(a.origin, a.text, "no crashkit equivalent");
    }
  }
  im.result.config.files.push_back(name);
  im.sort(im.result.config.files);
  return std::move(im.result);
}

std::string render_import(const ImportResult& r, const std::vector<std::string>& sources) {
  std::string s = "# crashkit.conf imported from";
  for (std::size_t i = 0; i < sources.size(); ++i)
    s += (i ? ", " : " ") + sources[i];
  s += "\n";
  if (!r.unmapped.empty()) {
    s += "#\n# Not carried over:\n";
    for (const auto& u : r.unmapped)
      s += "#   " + u.str() + "\n";
  }
  if (!r.changed.empty()) {
    s += "#\n# Carried over with changes:\n";
    for (const auto& u : r.changed)
      s += "#   " + u.str() + "\n";
  }
  return s + "\n" + render_config(r.config);
}

} // namespace crashkit::conf
