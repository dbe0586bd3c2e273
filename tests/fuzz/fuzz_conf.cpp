// crashkit.conf and the kdump.conf / sysconfig / kdump-tools imports. Properties, with
// render_config() as the renderer: a config that parses renders to text that parses to a
// config rendering the same (parse(render(x)) == x, compared through render, the canonical
// form); an import's config and its whole rendered file always parse.
//
// Input: crashkit.conf text or kdump.conf text, a NUL, /etc/sysconfig/kdump text.

#include <cstddef>
#include <cstdint>
#include <string>

#include "crashkit/conf/config_parser.hpp"
#include "crashkit/conf/import.hpp"
#include "fuzz_support.hpp"

namespace {

using crashkit::conf::Config;
using crashkit::conf::parse_config_text;
using crashkit::conf::render_config;

void check_roundtrip(const Config& c, const char* what) {
  for (const bool all : {false, true}) {
    const std::string text = render_config(c, all);
    auto again = parse_config_text(text);
    if (!again.ok()) {
      std::fprintf(stderr, "%s rendered as:\n%s\nerrors:\n%s", what, text.c_str(),
                   again.error_text().c_str());
      crashkit::fuzz::property_failed("render_config() does not parse");
    }
    if (render_config(again.config, all) != text) {
      std::fprintf(stderr, "%s rendered as:\n%s\nthen as:\n%s", what, text.c_str(),
                   render_config(again.config, all).c_str());
      crashkit::fuzz::property_failed("parse(render(x)) != x");
    }
  }
}

void check_import(const crashkit::conf::ImportResult& r) {
  check_roundtrip(r.config, "import");
  const std::string file = crashkit::conf::render_import(r, {"/etc/kdump.conf"});
  auto parsed = parse_config_text(file);
  if (!parsed.ok()) {
    std::fprintf(stderr, "render_import:\n%s\nerrors:\n%s", file.c_str(),
                 parsed.error_text().c_str());
    crashkit::fuzz::property_failed("render_import() does not parse");
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [first, second] = crashkit::fuzz::split_at_nul(data, size);
  auto parsed = parse_config_text(first);
  (void)parsed.error_text();
  if (parsed.ok())
    check_roundtrip(parsed.config, "crashkit.conf");
  check_import(crashkit::conf::import_kdump_utils(first, second));
  check_import(crashkit::conf::import_kdump_tools(first));
  return 0;
}
