#pragma once
/// Splitting one config line into words without a shell: values are stored as argv vectors and
/// never reach sh -c.

#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::conf {

/// Splits at unquoted blanks (space, tab). Inside '...' everything is literal; inside "..." a
/// backslash escapes only '"' and '\'; outside quotes a backslash escapes the next character.
/// Quotes may join parts of one word (a"b c"d is one word). A '#' that starts a word starts a
/// comment running to the end of the line. Errors (data) name the column counting from 1:
/// "column 7: unterminated double quote", "column 12: backslash at the end of the line".
Result<std::vector<std::string>> split_words(std::string_view line);

/// Quotes a word so split_words() gives it back unchanged: as is when it needs no quoting,
/// otherwise in single quotes (or double quotes when it contains a single quote).
std::string quote_word(std::string_view word);

/// Words quoted with quote_word() and joined by single spaces.
std::string join_words(const std::vector<std::string>& words);

} // namespace crashkit::conf
