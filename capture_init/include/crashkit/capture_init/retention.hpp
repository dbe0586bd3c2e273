#pragma once
/// Which old dump directories keep_dumps removes before a new dump is written.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crashkit::capture_init {

/// True for a dump directory name: YYYY-MM-DD-HHMMSS (digits exactly there), nothing else.
bool is_dump_dir_name(std::string_view name);

/// The directory name of a dump taken at t (UTC).
std::string dump_dir_name(std::int64_t unix_time);

/// Given the entries of PATH (any names, any order) and keep_dumps N, the dump directories to
/// remove before writing a new one, oldest first: all but the N-1 newest, so that with the new
/// dump N remain. The newest existing dump is never chosen (it is the most likely one nobody
/// has looked at yet), so keep_dumps 1 still leaves it beside the new one. N == 0 keeps all.
/// Names that are not dump directories are never chosen.
std::vector<std::string> dumps_to_remove(std::vector<std::string> entries, std::uint64_t keep);

} // namespace crashkit::capture_init
