#pragma once
/// The engine of `crashkit reset-crashkernel`: find where a system keeps its kernel command line
/// and plan the edits (and the commands) that set or remove crashkernel= there. Planning only
/// reads; apply_plan() (file_edit.hpp) writes, and the caller runs the commands.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/bootcfg/file_edit.hpp"
#include "crashkit/conf/crashkernel.hpp"

namespace crashkit::bootcfg {

struct ResetRequest {
  /// The system to edit: "/" or an image/chroot directory (--root).
  std::string root = "/";
  /// "ALL", a kernel version, or a kernel path ("/boot/vmlinuz-VER"); selects BLS entries.
  std::string kernel = "ALL";
  /// The crashkernel= words to write; empty removes them (see resolve_crashkernel_value).
  conf::CrashkernelSetting setting;
  /// Commands are then planned but marked as not to be run.
  bool dry_run = false;
  /// Edit BLS entries through grubby instead of directly. Default: when grubby is in the root's
  /// PATH and root is "/" (grubby edits the running system only).
  std::optional<bool> use_grubby;
};

/// A program the caller runs after applying the edits (no shell: argv[0] is a path inside the
/// root, e.g. "/usr/sbin/update-grub").
struct Command {
  std::vector<std::string> argv;
  /// Why it must not be run ("--root", "dry run"); empty when it should be.
  std::string skip_reason;
};

struct ResetPlan {
  /// What was found, e.g. "BLS entries /boot/loader/entries (3)", "/etc/default/grub".
  std::vector<std::string> sources;
  /// Only files whose text changes; empty when everything is already as asked.
  std::vector<FileEdit> edits;
  std::vector<Command> commands;
  /// Remarks for the administrator (kernel selection not applicable, conflicting values, ...).
  std::vector<std::string> notes;
};

/// The setting to write: explicit_value when given ("off" removes crashkernel=), else
/// default_value (the caller's get-default-crashkernel). Either may carry the "crashkernel="
/// prefix. Errors (usage) name the bad value and the parser's message.
Result<conf::CrashkernelSetting>
resolve_crashkernel_value(std::optional<std::string_view> explicit_value,
                          std::string_view default_value);

/// Reads the boot configuration under request.root and plans the change:
///  - BLS entries in /boot/loader/entries (also /efi and /boot/efi): the "options" of the
///    selected entries; through `grubby --update-kernel=ALL|/boot/vmlinuz-VER --args=...` /
///    `--remove-args=crashkernel` instead when grubby is used;
///  - /etc/kernel/cmdline (kernel-install): the whole file;
///  - /etc/default/grub: GRUB_CMDLINE_LINUX, then grub.cfg regenerated (update-grub,
///    grub2-mkconfig or grub-mkconfig -o ...) unless grub.cfg reads BLS entries;
/// the last two hold one line for every kernel, so a kernel selection does not apply to them
/// (a note says so). Errors: no_input when nothing is found or no BLS entry matches the
/// kernel, unsupported for files that cannot be edited safely (FILE:LINE: why), io.
Result<ResetPlan> plan_reset(const ResetRequest& request);

/// The plan as text to print: the diff of every edit, the commands (with "skipped: REASON"),
/// then the notes ("note: ..."). "no change needed" when there is nothing to do.
std::string format_plan(const ResetPlan& plan);

/// Writes every edit (apply_file_edit) in order; stops at the first error.
Status apply_plan(const ResetPlan& plan);

} // namespace crashkit::bootcfg
