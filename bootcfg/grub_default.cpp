#include "crashkit/bootcfg/grub_default.hpp"

#include <algorithm>

#include "shell_word.hpp"

namespace crashkit::bootcfg {
namespace {

constexpr std::string_view kLinux = "GRUB_CMDLINE_LINUX";
constexpr std::string_view kLinuxDefault = "GRUB_CMDLINE_LINUX_DEFAULT";
constexpr std::string_view kBlscfg = "GRUB_ENABLE_BLSCFG";

std::size_t line_of(std::string_view text, std::size_t pos) {
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

struct Replacement {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string raw;
};

bool same_setting(std::string_view cmdline, const conf::CrashkernelSetting& setting) {
  auto current = conf::parse_crashkernel_in_cmdline(cmdline);
  return current && *current == setting;
}

bool has_crashkernel(std::string_view cmdline) {
  return conf::replace_crashkernel_in_cmdline(cmdline, {}) != cmdline;
}

} // namespace

Result<GrubDefaultEdit> edit_grub_default(std::string_view text,
                                          const conf::CrashkernelSetting& setting,
                                          const std::string& shown_path) {
  GrubDefaultEdit out;
  std::vector<Replacement> reps;
  bool assigned = false;
  auto where = [&](std::size_t pos) {
    return shown_path + ":" + std::to_string(line_of(text, pos));
  };

  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t line_end = text.find('\n', pos);
    if (line_end == std::string_view::npos)
      line_end = text.size();
    std::size_t i = pos;
    while (i < line_end && (text[i] == ' ' || text[i] == '\t'))
      ++i;
    if (text.substr(i, line_end - i).starts_with("export ")) {
      i += 7;
      while (i < line_end && (text[i] == ' ' || text[i] == '\t'))
        ++i;
    }
    std::size_t eq = text.find('=', i);
    std::string_view name = eq < line_end ? text.substr(i, eq - i) : std::string_view{};
    std::size_t next = line_end + 1;
    if (name == std::string(kLinux) + "+") {
      return Error(ErrorCategory::unsupported, where(i) + ": " + std::string(kLinux) +
                                                   ": appending assignment (+=); edit it by hand");
    } else if (name == kLinux) {
      ShellWord w;
      if (auto e = decode_shell_word(text, eq + 1, w))
        return Error(ErrorCategory::unsupported, where(e->pos) + ": " + std::string(kLinux) + ": " +
                                                     e->what + "; edit it by hand");
      assigned = true;
      if (auto now = conf::parse_crashkernel_in_cmdline(w.value))
        out.current = std::move(*now);
      else
        out.current = std::nullopt;
      if (!same_setting(w.value, setting)) {
        std::string fresh = conf::replace_crashkernel_in_cmdline(w.value, setting);
        std::string raw;
        if (auto e = reencode_shell_word(text, w, fresh, raw))
          return Error(ErrorCategory::unsupported, where(e->pos) + ": " + std::string(kLinux) +
                                                       ": " + e->what + "; edit it by hand");
        reps.push_back({w.begin, w.end, std::move(raw)});
      }
      next = text.find('\n', w.end);
      next = next == std::string_view::npos ? text.size() : next + 1;
    } else if (name == kLinuxDefault || name == kBlscfg) {
      ShellWord w;
      bool decoded = !decode_shell_word(text, eq + 1, w);
      if (decoded) {
        next = text.find('\n', w.end);
        next = next == std::string_view::npos ? text.size() : next + 1;
      }
      if (!decoded) {
        // A value spanning lines (an open quote) hides what looks like assignments in it.
        std::size_t end = 0;
        if (auto e = shell_line_end(text, i, end))
          return Error(ErrorCategory::unsupported,
                       where(e->pos) + ": " + e->what + "; edit it by hand");
        next = end + 1;
      }
      // Undecodable values ("$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=...") are only searched.
      std::string_view seen =
          decoded ? std::string_view(w.value) : text.substr(eq + 1, line_end - eq - 1);
      if (name == kBlscfg)
        out.blscfg = decoded && w.value == "true";
      else if (decoded ? has_crashkernel(seen)
                       : seen.find("crashkernel=") != std::string_view::npos)
        out.notes.push_back(where(i) + ": " + std::string(kLinuxDefault) +
                            " also has crashkernel=; it comes after " + std::string(kLinux) +
                            " on the command line, so it wins; not changed, remove it by hand");
    } else {
      // Another command: a quoted value of it may span lines and hold text that looks like an
      // assignment of GRUB_CMDLINE_LINUX (the shell would not assign it).
      std::size_t end = 0;
      if (auto e = shell_line_end(text, i, end))
        return Error(ErrorCategory::unsupported,
                     where(e->pos) + ": " + e->what + "; edit it by hand");
      next = end + 1;
    }
    pos = next;
  }

  out.text = std::string(text);
  for (auto it = reps.rbegin(); it != reps.rend(); ++it)
    out.text.replace(it->begin, it->end - it->begin, it->raw);
  if (!assigned && !setting.words.empty()) {
    if (!out.text.empty() && out.text.back() != '\n')
      out.text += '\n';
    // A last line ending in an odd number of backslashes continues onto the next one: an
    // empty line ends it before the new assignment.
    std::size_t backslashes = 0;
    while (out.text.size() >= backslashes + 2 &&
           out.text[out.text.size() - 2 - backslashes] == '\\')
      ++backslashes;
    if (backslashes % 2 == 1)
      out.text += '\n';
    out.text += std::string(kLinux) + "=\"" + conf::format_crashkernel(setting) + "\"\n";
    out.notes.push_back(shown_path + ": had no " + std::string(kLinux) + "=; added one");
  }
  return out;
}

} // namespace crashkit::bootcfg
