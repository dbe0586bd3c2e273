#include "crashkit/conf/size.hpp"

#include <array>
#include <limits>

namespace crashkit::conf {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

int shift_for(char c) {
  switch (c) {
  case 'K':
  case 'k':
    return 10;
  case 'M':
  case 'm':
    return 20;
  case 'G':
  case 'g':
    return 30;
  case 'T':
  case 't':
    return 40;
  case 'P':
  case 'p':
    return 50;
  case 'E':
  case 'e':
    return 60;
  default:
    return -1;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

SizeScan fail(std::size_t pos, std::string what) {
  SizeScan s;
  s.error = std::move(what);
  s.error_pos = pos;
  return s;
}

} // namespace

SizeScan scan_size(std::string_view text, std::size_t pos) {
  std::size_t i = pos;
  if (i >= text.size() || text[i] < '0' || text[i] > '9')
    return fail(i, "expected a size (a number with an optional K, M, G or T suffix)");
  std::uint64_t v = 0;
  // memparse() uses base 0: "0x" is hex, a leading "0" is octal. Octal sizes are almost always a
  // typo ("0512M"), so they are refused rather than silently read as the kernel would.
  if (text[i] == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
    i += 2;
    if (i >= text.size() || hex_digit(text[i]) < 0)
      return fail(i, "expected hex digits after 0x");
    for (; i < text.size() && hex_digit(text[i]) >= 0; ++i) {
      if (v > (kMax >> 4))
        return fail(pos, "size does not fit in 64 bits");
      v = (v << 4) | static_cast<std::uint64_t>(hex_digit(text[i]));
    }
  } else if (text[i] == '0' && i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9') {
    return fail(i, "leading zero: the kernel would read this number as octal");
  } else {
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      auto d = static_cast<std::uint64_t>(text[i] - '0');
      if (v > (kMax - d) / 10)
        return fail(pos, "size does not fit in 64 bits");
      v = v * 10 + d;
    }
  }
  if (i < text.size()) {
    int sh = shift_for(text[i]);
    if (sh > 0) {
      if (v > (kMax >> sh))
        return fail(pos, "size does not fit in 64 bits");
      v <<= sh;
      ++i;
    }
  }
  SizeScan s;
  s.value = v;
  s.end = i;
  return s;
}

Result<std::uint64_t> parse_size(std::string_view text) {
  SizeScan s = scan_size(text, 0);
  if (s.ok() && s.end != text.size())
    s = fail(s.end, std::string("unexpected character '") + text[s.end] + "'");
  if (!s.ok())
    return Error(ErrorCategory::data, "size \"" + std::string(text) + "\" at character " +
                                          std::to_string(s.error_pos + 1) + ": " + s.error);
  return s.value;
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0)
    return "0";
  static constexpr std::array<std::pair<int, char>, 6> kUnits{
      {{60, 'E'}, {50, 'P'}, {40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}}};
  for (auto [sh, c] : kUnits) {
    std::uint64_t unit = std::uint64_t{1} << sh;
    if (bytes % unit == 0)
      return std::to_string(bytes >> sh) + c;
  }
  return std::to_string(bytes);
}

} // namespace crashkit::conf
