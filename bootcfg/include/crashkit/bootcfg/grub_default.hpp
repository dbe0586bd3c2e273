#pragma once
/// /etc/default/grub: the shell fragment grub-mkconfig sources. crashkernel= belongs in
/// GRUB_CMDLINE_LINUX (every entry, recovery included); GRUB_CMDLINE_LINUX_DEFAULT is left alone.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/conf/crashkernel.hpp"

namespace crashkit::bootcfg {

/// The file after an edit, with what the caller should tell the administrator.
struct GrubDefaultEdit {
  std::string text;
  /// "FILE:LINE: ..." remarks: crashkernel= also in GRUB_CMDLINE_LINUX_DEFAULT (which comes
  /// later on the command line and wins), an assignment appended because none existed.
  std::vector<std::string> notes;
  /// GRUB_ENABLE_BLSCFG=true: grub.cfg reads the BLS entries, so their options count.
  bool blscfg = false;
  /// The crashkernel= words GRUB_CMDLINE_LINUX held before the edit (its last assignment, as
  /// the shell sees it; empty when none); nullopt when they do not parse.
  std::optional<conf::CrashkernelSetting> current = conf::CrashkernelSetting{};
};

/// Sets (or, with an empty setting, removes) the crashkernel= words in every
/// GRUB_CMDLINE_LINUX= assignment of text, keeping every other byte, its quoting included. An
/// assignment whose words already equal setting is left as written. With no assignment and a
/// non-empty setting, `GRUB_CMDLINE_LINUX="crashkernel=..."` is appended.
/// Errors (unsupported) read `SHOWN_PATH:LINE: GRUB_CMDLINE_LINUX: WHAT; edit it by hand` for
/// values that need a shell to evaluate ($VAR, $(...), `...`, ~) or that are not one word.
/// Pure function.
Result<GrubDefaultEdit> edit_grub_default(std::string_view text,
                                          const conf::CrashkernelSetting& setting,
                                          const std::string& shown_path);

} // namespace crashkit::bootcfg
