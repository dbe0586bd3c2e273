// /etc/default/grub (shell words after GRUB_CMDLINE_LINUX=) and BLS entries, edited as
// `crashkit reset-crashkernel` does. Properties: an edit read back gives the setting written,
// a second edit with the same setting changes nothing, and shell_quote() decodes to its input.
//
// Input: one byte choosing the setting, then the file text.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crashkit/bootcfg/bls_entry.hpp"
#include "crashkit/bootcfg/grub_default.hpp"
#include "crashkit/conf/crashkernel.hpp"
#include "fuzz_support.hpp"
#include "shell_word.hpp"

namespace {

using crashkit::conf::CrashkernelSetting;

std::vector<CrashkernelSetting> g_settings;

void check_grub(std::string_view text, const CrashkernelSetting& setting) {
  auto edit = crashkit::bootcfg::edit_grub_default(text, setting, "/etc/default/grub");
  if (!edit)
    return;
  auto again = crashkit::bootcfg::edit_grub_default(edit->text, setting, "/etc/default/grub");
  if (!again) {
    std::fprintf(stderr, "edited:\n%s\nsecond edit: %s\n", edit->text.c_str(),
                 again.error().message().c_str());
    crashkit::fuzz::property_failed("an edited /etc/default/grub does not edit again");
  }
  if (again->text != edit->text || again->current != setting) {
    std::fprintf(stderr, "edited:\n%s\nagain:\n%s\n", edit->text.c_str(), again->text.c_str());
    crashkit::fuzz::property_failed("edit_grub_default is not idempotent / not read back");
  }
}

// Options the kernel can read as words: no NUL or other control bytes but tab and CR, and
// every double quote closed. For other entries only "does not crash" is checked: the edit's
// guarantees (reads back, idempotent) are stated for readable command lines.
bool readable_options(std::string_view text) {
  const std::string o = crashkit::bootcfg::bls_entry_options(text);
  for (char c : o)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r')
      return false;
  return std::count(o.begin(), o.end(), '"') % 2 == 0;
}

void check_bls(std::string_view text, const CrashkernelSetting& setting) {
  (void)crashkit::bootcfg::bls_entry_version(text, "entry.conf");
  const std::string edited = crashkit::bootcfg::edit_bls_entry(text, setting);
  if (!readable_options(text))
    return;
  if (crashkit::bootcfg::edit_bls_entry(edited, setting) != edited)
    crashkit::fuzz::property_failed("edit_bls_entry is not idempotent");
  auto back =
      crashkit::conf::parse_crashkernel_in_cmdline(crashkit::bootcfg::bls_entry_options(edited));
  // Words elsewhere on the line that do not parse are the entry's own problem.
  if (back && *back != setting) {
    std::fprintf(stderr, "edited:\n%s\n", edited.c_str());
    crashkit::fuzz::property_failed("edit_bls_entry does not read back");
  }
}

void check_shell_quote(std::string_view s) {
  if (s.find('\n') != std::string_view::npos)
    return; // one line of a sourced file holds the word
  const std::string line = "X=" + crashkit::bootcfg::shell_quote(s) + "\n";
  crashkit::bootcfg::ShellWord w;
  if (auto e = crashkit::bootcfg::decode_shell_word(line, 2, w); e || w.value != s) {
    std::fprintf(stderr, "quoted as %s", line.c_str());
    crashkit::fuzz::property_failed("decode_shell_word(shell_quote(s)) != s");
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  g_settings.emplace_back(); // removes the words
  for (const char* s : {"256M", "512M-2G:64M,2G-:128M", "256M,high crashkernel=72M,low", "128M@16M",
                        "crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"})
    g_settings.push_back(*crashkit::conf::parse_crashkernel(s));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const CrashkernelSetting& setting = g_settings[data[0] % g_settings.size()];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_grub(text, setting);
  check_bls(text, setting);
  crashkit::bootcfg::ShellWord w;
  (void)crashkit::bootcfg::decode_shell_word(text, 0, w);
  check_shell_quote(text);
  return 0;
}
