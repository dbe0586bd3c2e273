#pragma once
/// The dump-directory contract, shared by its writer (the capture init) and its readers
/// (`crashkit list`, `status`, `test`, `start`'s raw salvage, retention): PATH/YYYY-MM-DD-HHMMSS
/// directories (UTC stamps) holding vmcore (or vmcore.incomplete), dmesg.txt and report.json
/// (its schema: dump_report.hpp); which directories count as crashkit's dumps, their status,
/// what a dump file is from its first bytes, and which old ones keep_dumps removes.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::capture_init {

/// The files of a dump directory. vmcore.incomplete is capture::FileSink's name for a vmcore
/// not yet synced and renamed.
inline constexpr const char* kVmcoreFile = "vmcore";
inline constexpr const char* kIncompleteVmcoreFile = "vmcore.incomplete";
inline constexpr const char* kDmesgFile = "dmesg.txt";
inline constexpr const char* kReportFile = "report.json";

/// complete: vmcore final; incomplete: vmcore.incomplete holds a partial dump; failed: no vmcore.
enum class DumpStatus { complete, incomplete, failed };
/// "complete", "incomplete", "failed": the words of report.json, `crashkit list` and kdump_post.
std::string_view status_name(DumpStatus s);

/// True for a dump directory name: YYYY-MM-DD-HHMMSS (digits exactly there), nothing else.
bool is_dump_dir_name(std::string_view name);

/// The directory name of a dump taken at t (UTC). Fixed width, so names sort as times do.
std::string dump_dir_name(std::int64_t unix_time);

/// path_fd/name opened (O_NOFOLLOW) when it is a dump directory crashkit made: a dump directory
/// name, a real directory (not a symbolic link) owned by root or by `owner` (the caller's
/// euid; a test's user). Anything else, such as a directory a local user planted in a shared PATH,
/// gives an invalid fd: it is neither read nor removed nor counted. Errors: io for an openat or
/// fstat failure other than "not there / not a directory / a link", naming shown_dir/name.
Result<UniqueFd> open_dump_dir(int path_fd, const std::string& name, uid_t owner,
                               const std::string& shown_dir);

/// What the files of an open dump directory say: complete (a regular file `vmcore`),
/// incomplete (a regular `vmcore.incomplete` only), failed (neither). Links are not followed.
DumpStatus dump_files_status(int dir_fd);

/// A dump's status for its readers: the files decide completeness (the report may predate a
/// failed rename); a report saying "failed" wins only when no complete vmcore exists.
DumpStatus settled_status(DumpStatus files, std::optional<DumpStatus> report);

/// The most a reader takes of a report.json: report_json() writes about 1 KiB, the panic line
/// being one printk record (about 1 KiB at most); anything far larger was not written by it.
inline constexpr std::size_t kMaxReportBytes = 64 * 1024;

/// What a reader (`crashkit list`) takes from a report.json: the fields describing the dump.
struct SavedReport {
  std::string kernel;               ///< empty = unknown (null or absent)
  std::string panic;                ///< empty = unknown (null or absent)
  std::optional<int> dump_level;    ///< unset when absent or not an integer
  std::optional<DumpStatus> status; ///< unset when null, absent or not a known name
};

/// Reads the text report_json() writes (or an older/partial one): null and absent values are
/// unknown. Errors: data when the text is not JSON or kernel/panic/status is neither a string
/// nor null. Thread-safe.
Result<SavedReport> parse_report_json(std::string_view text);

/// What a dump file is, from its first bytes.
enum class DumpFileFormat {
  kdump,   ///< kdump-compressed: "KDUMP   " (capture::kdump::kSignature)
  elf,     ///< an ELF core: \177ELF
  flat,    ///< makedumpfile's flattened stream: "makedumpfile" (capture::kFlatSignature)
  unknown, ///< none of these (or too short to tell)
};

/// The bytes probe_dump_format() needs to tell every format apart.
inline constexpr std::size_t kProbeBytes = 16;

/// The format of a dump whose first bytes are head[0, n). Pure; thread-safe.
DumpFileFormat probe_dump_format(const void* head, std::size_t n);

/// The same for the file or device open at fd (reads from offset 0). Errors: io from the read,
/// naming `shown`.
Result<DumpFileFormat> probe_dump_file(int fd, const std::string& shown);

/// An existing dump directory as retention sees it.
struct OldDump {
  std::string name;
  DumpStatus status = DumpStatus::failed;
};

/// The old dump directories to remove for keep_dumps n (0 keeps all), oldest first, so that
/// with the new dump at most n complete dumps remain: the n-1 newest complete ones stay.
/// Incomplete and failed directories never count as one of those n (they cannot push out a
/// complete dump); one stays when it is newer than every complete dump removed, at most n-1 of
/// them. Names that are not dump directory names are never chosen.
std::vector<std::string> dumps_to_remove(std::vector<OldDump> dumps, std::uint64_t keep);

} // namespace crashkit::capture_init
