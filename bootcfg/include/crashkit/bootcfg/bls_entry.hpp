#pragma once
/// Boot Loader Specification type #1 entries (/boot/loader/entries/*.conf): "key value" lines;
/// "options" lines (there may be several; they are joined) carry the kernel command line and
/// "version" names the kernel.

#include <string>
#include <string_view>
#include <vector>

#include "crashkit/conf/crashkernel.hpp"

namespace crashkit::bootcfg {

/// The kernel version an entry boots: its "version" line, else what follows "vmlinuz-" in its
/// "linux" path, else the file name without ".conf". Pure function.
std::string bls_entry_version(std::string_view text, std::string_view file_name);

/// The entry's options lines joined by single blanks ("" when there is none).
std::string bls_entry_options(std::string_view text);

/// text with the crashkernel= words of its options set to setting (an empty setting removes
/// them), every other byte unchanged. The words go where the first old one was (other options
/// lines lose theirs), else at the end of the last options line; an entry without options
/// gets an "options" line appended. Unchanged when its words already equal setting.
std::string edit_bls_entry(std::string_view text, const conf::CrashkernelSetting& setting);

} // namespace crashkit::bootcfg
