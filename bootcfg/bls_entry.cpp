#include "crashkit/bootcfg/bls_entry.hpp"

namespace crashkit::bootcfg {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

struct Line {
  std::string_view key;
  std::size_t value_begin = 0; // offsets into the whole text
  std::size_t value_end = 0;   // before the newline
};

// Key/value lines; comments and blank lines are skipped.
std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::size_t i = pos;
    while (i < end && is_blank(text[i]))
      ++i;
    if (i < end && text[i] != '#') {
      std::size_t k = i;
      while (k < end && !is_blank(text[k]))
        ++k;
      std::size_t v = k;
      while (v < end && is_blank(text[v]))
        ++v;
      out.push_back({text.substr(i, k - i), v, end});
    }
    pos = end + 1;
  }
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string bls_entry_version(std::string_view text, std::string_view file_name) {
  std::string from_linux;
  for (const auto& l : lines_of(text)) {
    std::string_view v = trimmed(text.substr(l.value_begin, l.value_end - l.value_begin));
    if (l.key == "version" && !v.empty())
      return std::string(v);
    if (l.key == "linux") {
      std::string_view base = v.substr(v.rfind('/') + 1);
      if (base.starts_with("vmlinuz-"))
        from_linux = base.substr(8);
    }
  }
  if (!from_linux.empty())
    return from_linux;
  if (file_name.ends_with(".conf"))
    file_name.remove_suffix(5);
  return std::string(file_name);
}

std::string bls_entry_options(std::string_view text) {
  std::string out;
  for (const auto& l : lines_of(text)) {
    if (l.key != "options")
      continue;
    if (!out.empty())
      out += ' ';
    out += text.substr(l.value_begin, l.value_end - l.value_begin);
  }
  return out;
}

std::string edit_bls_entry(std::string_view text, const conf::CrashkernelSetting& setting) {
  auto current = conf::parse_crashkernel_in_cmdline(bls_entry_options(text));
  if (current && *current == setting)
    return std::string(text);

  std::vector<Line> options;
  for (const auto& l : lines_of(text))
    if (l.key == "options")
      options.push_back(l);
  if (options.empty()) {
    std::string out(text);
    if (setting.words.empty())
      return out;
    if (!out.empty() && out.back() != '\n')
      out += '\n';
    return out + "options " + conf::format_crashkernel(setting) + "\n";
  }

  // The line that receives the words: the first holding one, else the last.
  std::size_t target = options.size() - 1;
  for (std::size_t i = 0; i < options.size(); ++i) {
    std::string_view v =
        text.substr(options[i].value_begin, options[i].value_end - options[i].value_begin);
    if (conf::replace_crashkernel_in_cmdline(v, {}) != v) {
      target = i;
      break;
    }
  }
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const Line& l = options[i];
    std::string_view v = text.substr(l.value_begin, l.value_end - l.value_begin);
    // A trailing '\r' stays outside the edited value.
    std::size_t cr = !v.empty() && v.back() == '\r' ? 1 : 0;
    v.remove_suffix(cr);
    out.append(text.substr(copied, l.value_begin - copied));
    std::string edited =
        conf::replace_crashkernel_in_cmdline(v, i == target ? setting : conf::CrashkernelSetting{});
    // "options" with nothing after it: the key needs a blank before the new value.
    if (v.empty() && !edited.empty() && !is_blank(text[l.value_begin - 1]))
      out += ' ';
    out += edited;
    copied = l.value_end - cr;
  }
  out.append(text.substr(copied));
  return out;
}

} // namespace crashkit::bootcfg
