#pragma once
/// One planned change of a text file, its diff, and the crash-safe way to write it.

#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"

namespace crashkit::bootcfg {

struct FileEdit {
  std::string path;       ///< where it is on this system (the root prefixed)
  std::string shown_path; ///< how it is named inside the edited system ("/etc/default/grub")
  std::string old_text;
  std::string new_text;
};

/// Suffix of the backup apply_file_edit keeps beside the file.
inline constexpr std::string_view kBackupSuffix = ".crashkit-bak";

/// A line diff of the edit: "--- PATH" / "+++ PATH" headers, then "@@ -L,N +L,M @@" hunks of
/// "-old" / "+new" lines (no context lines). Empty when the texts are equal. Pure function.
std::string format_diff(const FileEdit& edit);

/// Writes edit.new_text over edit.path crash-safely: PATH.incomplete in the same directory with
/// the file's mode, owner and SELinux label, fsync, rename over PATH, fsync of the directory.
/// Before that, when PATH.crashkit-bak does not exist, the current text is saved there the same
/// way: the backup always holds the text from before crashkit first changed the file, however
/// often it runs. Nothing is written when the texts are equal.
/// Errors: data when the file no longer holds edit.old_text (changed since it was planned),
/// unsupported when it is not a regular file, io/no_space/no_input from the system calls.
Status apply_file_edit(const FileEdit& edit);

/// Reads a whole regular file (at most 4 MiB: these are small configuration files).
Result<std::string> read_text_file(const std::string& path);

} // namespace crashkit::bootcfg
