#pragma once
/// Memory sizes as the kernel's memparse() reads them (crashkernel=, min_free): a decimal number
/// or 0x-prefixed hex, optionally followed by one of K M G T P E (either case, powers of 1024).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"

namespace crashkit::conf {

/// Outcome of scanning one size at a position inside a longer text.
struct SizeScan {
  std::uint64_t value = 0;
  std::size_t end = 0;       ///< index just past the size (and its suffix) when ok
  std::string error;         ///< empty when ok
  std::size_t error_pos = 0; ///< index of the offending character when not ok
  bool ok() const { return error.empty(); }
};

/// Scans a size starting at text[pos]; stops at the first character that cannot continue it.
/// Refuses a leading zero followed by digits (the kernel would read it as octal) and values that
/// do not fit in 64 bits.
SizeScan scan_size(std::string_view text, std::size_t pos);

/// Parses a whole string as one size. Errors (category data) name the character position.
Result<std::uint64_t> parse_size(std::string_view text);

/// Canonical text: the largest suffix that divides the value exactly ("512M", "1G", "4097K",
/// "1000" for plain bytes, "0").
std::string format_size(std::uint64_t bytes);

} // namespace crashkit::conf
