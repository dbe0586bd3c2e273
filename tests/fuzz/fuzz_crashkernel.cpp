// crashkernel= values and command lines. Properties: a parsed setting formats to text that
// parses to the same setting; replacing the words of a command line and reading them back
// gives the setting written.
//
// Input: a crashkernel value, a NUL, a kernel command line.

#include <cstddef>
#include <cstdint>
#include <string>

#include "crashkit/conf/crashkernel.hpp"
#include "fuzz_support.hpp"

using crashkit::conf::format_crashkernel;
using crashkit::conf::parse_crashkernel;
using crashkit::conf::parse_crashkernel_in_cmdline;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [value, cmdline] = crashkit::fuzz::split_at_nul(data, size);
  std::size_t pos = 0;
  auto setting = parse_crashkernel(value, &pos);
  if (!setting && pos > value.size())
    crashkit::fuzz::property_failed("error position past the text");
  auto on_line = parse_crashkernel_in_cmdline(cmdline, &pos);
  if (!on_line && pos > cmdline.size())
    crashkit::fuzz::property_failed("cmdline error position past the text");
  (void)crashkit::conf::cmdline_words(cmdline, true);
  if (!setting)
    return 0;
  const std::string text = format_crashkernel(*setting);
  auto again = parse_crashkernel(text);
  if (!again || *again != *setting) {
    std::fprintf(stderr, "formatted as \"%s\"\n", text.c_str());
    crashkit::fuzz::property_failed("parse(format(x)) != x");
  }
  for (const std::uint64_t ram : {0ULL, 1ULL << 30, 3ULL << 30, 64ULL << 30, ~0ULL})
    (void)crashkit::conf::evaluate_crashkernel(*setting, ram);
  if (on_line) {
    const std::string replaced = crashkit::conf::replace_crashkernel_in_cmdline(cmdline, *setting);
    auto back = parse_crashkernel_in_cmdline(replaced);
    if (!back || *back != *setting) {
      std::fprintf(stderr, "replaced line \"%s\"\n", replaced.c_str());
      crashkit::fuzz::property_failed("parse_in_cmdline(replace(line, x)) != x");
    }
  }
  return 0;
}
