#include "crashkit/bootcfg/bls_entry.hpp"

#include <algorithm>

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
  // A new options line at the end of the entry (after the text, on a line of its own).
  const auto append_options_line = [&](std::string out) {
    if (setting.words.empty())
      return out;
    if (!out.empty() && out.back() != '\n')
      out += '\n';
    return out + "options " + conf::format_crashkernel(setting) + "\n";
  };
  if (options.empty())
    return append_options_line(std::string(text));

  // The line that receives the words: the first holding one, else the last. The kernel joins
  // the lines and its next_arg() reads a double quote to its close or to the end: when the
  // joined lines end inside a quote, the words go before the word that opens it (on the line
  // that opens it); when the last line starts inside a quote that it closes, on a line of
  // their own after it.
  std::size_t target = options.size() - 1;
  bool quoted = false;
  bool last_starts_quoted = false;
  std::ptrdiff_t ends_kernel_args = -1;
  std::vector<bool> starts_quoted(options.size());
  for (std::size_t i = 0; i < options.size(); ++i) {
    std::string_view v =
        text.substr(options[i].value_begin, options[i].value_end - options[i].value_begin);
    const bool was_quoted = quoted;
    starts_quoted[i] = was_quoted;
    // A crashkernel= word that opens a quote runs on into the next lines; replacing it would
    // change how the kernel reads every word after it. Such an entry is left as it is.
    if (!was_quoted && ends_kernel_args < 0)
      for (auto [b, e] : conf::cmdline_words(v, true)) {
        const std::string_view w = v.substr(b, e - b);
        if (std::count(w.begin(), w.end(), '"') % 2 == 1 &&
            conf::replace_crashkernel_in_cmdline(w, {}) != w)
          return std::string(text);
      }
    quoted ^= std::count(v.begin(), v.end(), '"') % 2 == 1;
    if (!was_quoted && quoted)
      target = i;
    last_starts_quoted = was_quoted;
    // After a bare "--" the words are init's: the first line holding one takes the words
    // before it (as replace_crashkernel_in_cmdline does on one line).
    if (!was_quoted && ends_kernel_args < 0 &&
        conf::cmdline_words(v, true).size() != conf::cmdline_words(v, false).size())
      ends_kernel_args = static_cast<std::ptrdiff_t>(i);
  }
  if (!quoted)
    target = options.size() - 1;
  if (ends_kernel_args >= 0 && static_cast<std::size_t>(ends_kernel_args) < target) {
    target = static_cast<std::size_t>(ends_kernel_args);
    last_starts_quoted = false;
  }
  // Lines after the one with a bare "--" hold init's arguments: never the kernel's words.
  const auto after_dashes = [&](std::size_t i) {
    return ends_kernel_args >= 0 && i > static_cast<std::size_t>(ends_kernel_args);
  };
  bool held = false;
  // (A line that starts inside a quote holds no word of the kernel's own.)
  for (std::size_t i = 0; i < options.size() && !held; ++i) {
    std::string_view v =
        text.substr(options[i].value_begin, options[i].value_end - options[i].value_begin);
    if (!starts_quoted[i] && !after_dashes(i) && conf::replace_crashkernel_in_cmdline(v, {}) != v) {
      target = i;
      held = true;
    }
  }
  const bool own_line = !held && !quoted && last_starts_quoted;
  if (own_line)
    target = options.size(); // no existing line gets the words
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const Line& l = options[i];
    std::string_view v = text.substr(l.value_begin, l.value_end - l.value_begin);
    // A trailing '\r' stays outside the edited value.
    std::size_t cr = !v.empty() && v.back() == '\r' ? 1 : 0;
    v.remove_suffix(cr);
    out.append(text.substr(copied, l.value_begin - copied));
    // A line that starts inside a quote is the quoted word's text, one after "--" init's:
    // never edited.
    std::string edited = starts_quoted[i] || after_dashes(i)
                             ? std::string(v)
                             : conf::replace_crashkernel_in_cmdline(
                                   v, i == target ? setting : conf::CrashkernelSetting{});
    // "options" with nothing after it: the key needs a blank before the new value.
    if (v.empty() && !edited.empty() && !is_blank(text[l.value_begin - 1]))
      out += ' ';
    out += edited;
    copied = l.value_end - cr;
  }
  out.append(text.substr(copied));
  return own_line ? append_options_line(std::move(out)) : out;
}

} // namespace crashkit::bootcfg
