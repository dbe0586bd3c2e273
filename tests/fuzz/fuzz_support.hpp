#pragma once
// Shared by the libFuzzer targets: quiet logging (a warning per input would dominate the run)
// and a per-process scratch directory for parsers that take a path or a file descriptor.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace crashkit::fuzz {

/// Turns library logging off; call from LLVMFuzzerInitialize.
inline void quiet_logging() {
  spdlog::set_level(spdlog::level::off);
}

/// A directory private to this fuzzer process, created on first use, removed at exit.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string templ = "/tmp/crashkit-fuzz.XXXXXX";
    if (!::mkdtemp(templ.data()))
      std::abort();
    static std::string remove_cmd;
    remove_cmd = "rm -rf " + templ;
    std::atexit([] { (void)std::system(remove_cmd.c_str()); });
    return templ;
  }();
  return dir;
}

/// Replaces `path` with exactly `bytes`; aborts on I/O errors (the harness, not the target).
inline void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    std::abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0)
      std::abort();
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

inline void write_file(const std::string& path, std::string_view text) {
  write_file(path, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

/// Splits the input at the first NUL byte: [0, nul) and (nul, end]. No NUL: all in first.
inline std::pair<std::string_view, std::string_view> split_at_nul(const std::uint8_t* data,
                                                                  std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = all.find('\0');
  if (nul == std::string_view::npos)
    return {all, {}};
  return {all.substr(0, nul), all.substr(nul + 1)};
}

/// A property of a fuzz target failed: abort so libFuzzer saves the input.
[[noreturn]] inline void property_failed(const char* what) {
  std::fprintf(stderr, "property failed: %s\n", what);
  std::abort();
}

} // namespace crashkit::fuzz
