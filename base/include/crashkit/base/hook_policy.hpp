#pragma once
/// The rule for kdump_pre / kdump_post executables, checked when the image is built and again
/// by the capture init before it runs one: they run as root without a shell, so only a regular,
/// executable file that the expected owner owns and nobody else may write.

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace crashkit {

enum class HookProblem { none, not_regular, wrong_owner, writable, not_executable };

/// The first rule st (stat(2) of the hook) breaks, or none. Each caller words the refusal for
/// its own reader (a config directive at build time, a log line at capture time).
inline HookProblem check_hook_stat(const struct stat& st, uid_t owner) {
  if (!S_ISREG(st.st_mode))
    return HookProblem::not_regular;
  if (st.st_uid != owner)
    return HookProblem::wrong_owner;
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return HookProblem::writable;
  if (!(st.st_mode & S_IXUSR))
    return HookProblem::not_executable;
  return HookProblem::none;
}

/// The interpreter a script hook names: the first word after "#!" of `head` (the file's first
/// bytes), "" when the line has none. nullopt when head does not start with "#!" (an ELF
/// executable). The kernel runs that interpreter as root too, so it gets the same check.
inline std::optional<std::string> shebang_interpreter(std::string_view head) {
  if (!head.starts_with("#!"))
    return std::nullopt;
  head.remove_prefix(2);
  head = head.substr(0, head.find('\n'));
  const auto b = head.find_first_not_of(" \t");
  if (b == std::string_view::npos)
    return std::string();
  head.remove_prefix(b);
  return std::string(head.substr(0, head.find_first_of(" \t\r")));
}

} // namespace crashkit
