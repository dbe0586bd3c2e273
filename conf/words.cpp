#include "crashkit/conf/words.hpp"

namespace crashkit::conf {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

Error at(std::size_t pos, const std::string& what) {
  return Error(ErrorCategory::data, "column " + std::to_string(pos + 1) + ": " + what);
}

} // namespace

Result<std::vector<std::string>> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  for (;;) {
    while (i < s.size() && is_blank(s[i]))
      ++i;
    if (i >= s.size() || s[i] == '#')
      break;
    std::string word;
    while (i < s.size() && !is_blank(s[i])) {
      char c = s[i];
      if (c == '\'') {
        std::size_t open = i++;
        while (i < s.size() && s[i] != '\'')
          word.push_back(s[i++]);
        if (i >= s.size())
          return at(open, "unterminated single quote");
        ++i;
      } else if (c == '"') {
        std::size_t open = i++;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\'))
            ++i;
          word.push_back(s[i++]);
        }
        if (i >= s.size())
          return at(open, "unterminated double quote");
        ++i;
      } else if (c == '\\') {
        if (i + 1 >= s.size())
          return at(i, "backslash at the end of the line");
        word.push_back(s[i + 1]);
        i += 2;
      } else {
        word.push_back(c);
        ++i;
      }
    }
    out.push_back(std::move(word));
  }
  return out;
}

std::string quote_word(std::string_view w) {
  bool plain = !w.empty() && w.front() != '#';
  for (char c : w)
    if (is_blank(c) || c == '\'' || c == '"' || c == '\\')
      plain = false;
  if (plain)
    return std::string(w);
  if (w.find('\'') == std::string_view::npos)
    return "'" + std::string(w) + "'";
  std::string s = "\"";
  for (char c : w) {
    if (c == '"' || c == '\\')
      s.push_back('\\');
    s.push_back(c);
  }
  return s + "\"";
}

std::string join_words(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) {
    if (!s.empty())
      s += ' ';
    s += quote_word(w);
  }
  return s;
}

} // namespace crashkit::conf
