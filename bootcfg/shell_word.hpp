#pragma once
// One shell word as written after NAME= in a file that a shell sources (/etc/default/grub),
// decoded with a map back to the raw bytes so that an edit of the decoded value can be written
// back touching only the bytes it changes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crashkit::bootcfg {

enum class Quote { none, single, dbl };

struct ShellSegment {
  Quote quote = Quote::none;
  std::size_t content_end = 0; // raw offset after the content (the closing quote)
};

struct ShellWord {
  std::size_t begin = 0; // raw offset of the word (just after '=')
  std::size_t end = 0;   // raw offset after the word
  std::string value;     // what the shell assigns
  // For each byte of value: raw span that produced it and the segment it lies in.
  std::vector<std::size_t> raw_begin;
  std::vector<std::size_t> raw_end;
  std::vector<std::size_t> segment;
  std::vector<ShellSegment> segments;
};

struct ShellError {
  std::size_t pos = 0; // raw offset the problem was found at
  std::string what;
};

/// Decodes the word starting at text[pos] and checks that only blanks and an optional comment
/// follow it on its (last) line. Refuses what cannot be edited without running a shell:
/// parameter expansion, command substitution, tilde expansion, unterminated quotes, and
/// further words or commands after the value.
/// s as one shell word: unchanged when every byte is safe unquoted, else single-quoted.
std::string shell_quote(std::string_view s);

std::optional<ShellError> decode_shell_word(std::string_view text, std::size_t pos, ShellWord& out);

/// Sets `end` to the offset of the newline (or the end of text) that ends the shell command
/// line starting at text[pos]: quotes, backquotes and backslash-newlines continue it past
/// newlines; a comment ends it. Refuses an unterminated quote (the shell cannot source the
/// file, and where the next line starts is unknown).
std::optional<ShellError> shell_line_end(std::string_view text, std::size_t pos, std::size_t& end);

/// The raw text of a word whose value becomes new_value, changing only the bytes that encode
/// the changed part of the value. The result replaces text[word.begin, word.end).
std::optional<ShellError> reencode_shell_word(std::string_view text, const ShellWord& word,
                                              std::string_view new_value, std::string& raw_out);

} // namespace crashkit::bootcfg
