#pragma once
/// Reading inside directories other users might have prepared (a dump PATH, a dump directory):
/// everything is opened relative to a directory fd, never through a symbolic link, and never
/// blocks on a FIFO or device planted under an expected name.

#include <cstddef>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit {

/// Opens dir_fd/name as a directory (O_DIRECTORY|O_NOFOLLOW): a symbolic link is refused.
/// `shown` names it in errors. Errors: from_errno of openat (ELOOP/ENOTDIR for a link).
Result<UniqueFd> open_dir_at(int dir_fd, const std::string& name, const std::string& shown);

/// The names in an open directory, without "." and "..", in no particular order. `shown`
/// names it in errors. Errors: from_errno of dup or opendir.
Result<std::vector<std::string>> list_dir_fd(int dir_fd, const std::string& shown);

/// An open regular file: the fd and its size when opened.
struct RegularFile {
  UniqueFd fd;
  std::uint64_t size = 0;
};

/// Opens dir_fd/name (AT_FDCWD and a path work too) with `flags` plus
/// O_NOFOLLOW|O_NONBLOCK|O_NOCTTY|O_CLOEXEC, so a link is refused and a FIFO or device planted
/// under the name never blocks, then requires a regular file (fstat). Errors: from_errno of
/// openat/fstat, data when it is not a regular file; all naming `shown`.
Result<RegularFile> open_regular_at(int dir_fd, const std::string& name, int flags,
                                    const std::string& shown);

/// The content of dir_fd/name when it is a regular file of at most max_bytes: opened with
/// O_NOFOLLOW|O_NONBLOCK, checked with fstat before any read. Errors: from_errno of openat
/// (ENOENT → no_input, ELOOP for a link), data when it is not a regular file or is larger than
/// max_bytes, io for a failed read; all naming `shown`.
Result<std::string> read_regular_file_at(int dir_fd, const std::string& name, std::size_t max_bytes,
                                         const std::string& shown);

} // namespace crashkit
