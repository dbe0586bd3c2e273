#pragma once
/// The dump-directory contract on disk: names, which directories count as crashkit's dumps,
/// their status from the files present, and which old ones keep_dumps removes.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture_init/dump_report.hpp"

namespace crashkit::capture_init {

/// True for a dump directory name: YYYY-MM-DD-HHMMSS (digits exactly there), nothing else.
bool is_dump_dir_name(std::string_view name);

/// The directory name of a dump taken at t (UTC).
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
