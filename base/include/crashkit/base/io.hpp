#pragma once
/// Positional I/O that loops over short transfers and EINTR, returning Result with offsets.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"

namespace crashkit {

/// Reads exactly len bytes at off; a short read (EOF) is a data error naming the offset.
Status pread_full(int fd, void* buf, std::size_t len, std::uint64_t off, const std::string& path);

/// Reads up to len bytes at off; returns the count (less than len only at EOF).
Result<std::size_t> pread_some(int fd, void* buf, std::size_t len, std::uint64_t off,
                               const std::string& path);

/// Writes exactly len bytes at off.
Status pwrite_full(int fd, const void* buf, std::size_t len, std::uint64_t off,
                   const std::string& path);

/// Writes exactly len bytes at the current position (pipes, stdout).
Status write_full(int fd, const void* buf, std::size_t len, const std::string& path);

/// Reads up to len bytes from a stream; returns count (0 at EOF), looping until len or EOF.
Result<std::size_t> read_full(int fd, void* buf, std::size_t len, const std::string& path);

/// The whole content of a file, read until EOF (works for /proc and /sys, whose sizes read 0).
/// Errors: from_errno of open (ENOENT → no_input) or read, naming the path.
Result<std::string> read_whole_file(const std::string& path);

/// Replaces path crash-safely: writes a new path.incomplete.XXXXXX (mkostemp: unique, O_EXCL,
/// so concurrent writers never share it and a planted link is never followed) with `mode`,
/// fdatasync, rename, fsync of the directory. Concurrent writers of one path leave exactly one
/// writer's whole content. On failure the temporary is removed and path is untouched.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode);

/// fsync of the directory containing path (after a rename, so the new name survives a crash).
Status fsync_parent_dir(const std::string& path);

/// Number of online CPUs (at least 1).
unsigned online_cpus();

} // namespace crashkit
