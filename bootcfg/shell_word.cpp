#include "shell_word.hpp"

#include <algorithm>

namespace crashkit::bootcfg {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// Unquoted characters that end a word or start another command.
bool ends_word(char c) {
  return is_blank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' ||
         c == '(' || c == ')';
}

// Bytes that can stand unquoted in a word without changing meaning.
bool unquoted_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("=,:@._/+-%").find(c) != std::string_view::npos;
}

std::string double_quote_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$' || c == '`')
      out += '\\';
    out += c;
  }
  return out;
}

std::string single_quote_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out;
}

std::string encode_for(Quote q, std::string_view s) {
  switch (q) {
  case Quote::single:
    return single_quote_escape(s);
  case Quote::dbl:
    return double_quote_escape(s);
  case Quote::none:
    break;
  }
  if (std::all_of(s.begin(), s.end(), unquoted_safe))
    return std::string(s);
  return '"' + double_quote_escape(s) + '"';
}

} // namespace

std::string shell_quote(std::string_view s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), unquoted_safe))
    return std::string(s);
  return "'" + single_quote_escape(s) + "'";
}

std::optional<ShellError> decode_shell_word(std::string_view t, std::size_t pos, ShellWord& w) {
  w = ShellWord{};
  w.begin = pos;
  auto push = [&](char c, std::size_t rb, std::size_t re) {
    w.value += c;
    w.raw_begin.push_back(rb);
    w.raw_end.push_back(re);
    w.segment.push_back(w.segments.size() - 1);
  };
  auto expansion = [](std::size_t at, char c) {
    return ShellError{at, c == '`' ? "command substitution (`) in the value"
                                   : "variable expansion or command substitution ($) in the value"};
  };
  bool in_unquoted_run = false;
  while (pos < t.size() && !ends_word(t[pos])) {
    char c = t[pos];
    if (c == '\'') {
      std::size_t close = t.find('\'', pos + 1);
      if (close == std::string_view::npos)
        return ShellError{pos, "unterminated single quote"};
      w.segments.push_back({Quote::single, close});
      for (std::size_t i = pos + 1; i < close; ++i)
        push(t[i], i, i + 1);
      pos = close + 1;
      in_unquoted_run = false;
    } else if (c == '"') {
      std::size_t i = pos + 1;
      w.segments.push_back({Quote::dbl, i});
      for (;;) {
        if (i >= t.size())
          return ShellError{pos, "unterminated double quote"};
        char d = t[i];
        if (d == '"')
          break;
        if (d == '$' || d == '`')
          return expansion(i, d);
        if (d == '\\' && i + 1 < t.size() &&
            std::string_view("$`\"\\\n").find(t[i + 1]) != std::string_view::npos) {
          if (t[i + 1] != '\n') // backslash-newline joins lines and yields nothing
            push(t[i + 1], i, i + 2);
          i += 2;
          continue;
        }
        push(d, i, i + 1);
        ++i;
      }
      w.segments.back().content_end = i;
      pos = i + 1;
      in_unquoted_run = false;
    } else {
      if (c == '$' || c == '`')
        return expansion(pos, c);
      if (c == '~')
        return ShellError{pos, "tilde expansion (~) in the value"};
      if (!in_unquoted_run) {
        w.segments.push_back({Quote::none, pos});
        in_unquoted_run = true;
      }
      if (c == '\\') {
        if (pos + 1 >= t.size())
          return ShellError{pos, "backslash at the end of the file"};
        if (t[pos + 1] != '\n')
          push(t[pos + 1], pos, pos + 2);
        pos += 2;
      } else {
        push(c, pos, pos + 1);
        ++pos;
      }
      w.segments.back().content_end = pos;
    }
  }
  w.end = pos;
  while (pos < t.size() && is_blank(t[pos]))
    ++pos;
  if (pos < t.size() && t[pos] != '\n' && t[pos] != '#')
    return ShellError{pos, "unexpected text after the value (only a comment may follow it)"};
  return std::nullopt;
}

std::optional<ShellError> shell_line_end(std::string_view t, std::size_t pos, std::size_t& end) {
  bool word_start = true;
  while (pos < t.size() && t[pos] != '\n') {
    const char c = t[pos];
    if (c == '#' && word_start) {
      pos = t.find('\n', pos);
      break;
    }
    if (c == '\\') {
      pos += 2;
    } else if (c == '\'' || c == '`') {
      const std::size_t close = t.find(c, pos + 1);
      if (close == std::string_view::npos)
        return ShellError{pos, c == '`' ? "unterminated backquote" : "unterminated single quote"};
      pos = close + 1;
    } else if (c == '"') {
      std::size_t i = pos + 1;
      while (i < t.size() && t[i] != '"')
        i += t[i] == '\\' ? 2 : 1;
      if (i >= t.size())
        return ShellError{pos, "unterminated double quote"};
      pos = i + 1;
    } else {
      ++pos;
    }
    word_start = ends_word(c);
  }
  end = std::min(pos, t.size());
  return std::nullopt;
}

std::optional<ShellError> reencode_shell_word(std::string_view text, const ShellWord& w,
                                              std::string_view fresh, std::string& raw_out) {
  std::string_view old = w.value;
  std::string_view raw = text.substr(w.begin, w.end - w.begin);
  if (old == fresh) {
    raw_out = raw;
    return std::nullopt;
  }
  // A value with nothing to keep (empty, or plain unquoted bytes) becomes one double-quoted
  // word when the new value needs quoting: GRUB_CMDLINE_LINUX=quiet -> "quiet crashkernel=X".
  bool plain = w.segments.empty() ||
               (w.segments.size() == 1 && w.segments[0].quote == Quote::none && raw == old);
  if (plain) {
    raw_out = encode_for(Quote::none, fresh);
    return std::nullopt;
  }
  std::size_t p = 0;
  while (p < old.size() && p < fresh.size() && old[p] == fresh[p])
    ++p;
  std::size_t s = 0;
  while (s < old.size() - p && s < fresh.size() - p &&
         old[old.size() - 1 - s] == fresh[fresh.size() - 1 - s])
    ++s;
  std::size_t q = old.size() - s;
  std::string_view mid = fresh.substr(p, fresh.size() - s - p);
  std::size_t from = 0;
  std::size_t to = 0;
  const ShellSegment* seg = nullptr;
  if (p < q) {
    if (w.segment[p] != w.segment[q - 1])
      return ShellError{w.raw_begin[p],
                        "the crashkernel= words to change lie in differently quoted parts of the "
                        "value"};
    seg = &w.segments[w.segment[p]];
    from = w.raw_begin[p];
    to = w.raw_end[q - 1];
  } else if (p < old.size()) {
    seg = &w.segments[w.segment[p]];
    from = to = w.raw_begin[p];
  } else {
    seg = &w.segments.back();
    from = to = seg->content_end;
  }
  raw_out = std::string(text.substr(w.begin, from - w.begin)) + encode_for(seg->quote, mid) +
            std::string(text.substr(to, w.end - to));
  return std::nullopt;
}

} // namespace crashkit::bootcfg
