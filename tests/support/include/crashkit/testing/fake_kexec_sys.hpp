#pragma once
/// A KexecSys that records every call and answers from tables, for unit tests.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::loader {

class FakeKexecSys final : public KexecSys {
public:
  /// One recorded kexec_file_load call.
  struct FileLoadCall {
    int kernel_fd = -1;
    int initrd_fd = -1;
    std::uint64_t cmdline_len = 0;
    std::string cmdline_bytes; ///< exactly cmdline_len bytes, NUL included
    bool cmdline_ptr_null = true;
    unsigned long flags = 0;
  };

  /// An image open_image hands out: a memfd of `size` bytes that starts with `head` (cut to
  /// `size` if longer); the rest is a hole that reads as zeros, so a test can claim a 250 MiB
  /// initrd without the memory. The loader reads real content, as from a real file.
  struct Image {
    std::uint64_t size = 0;
    std::vector<std::byte> head;
    /// Set: the memfd is cut to this many bytes right after open_image reported `size`, as when
    /// the file is rewritten in place (cp over /boot/vmlinuz) between the fstat and the read.
    std::optional<std::uint64_t> truncated_after_open;
  };
  /// Images that open_image finds: path -> Image; opened_fds records path -> fd. Paths not
  /// listed are opened for real, so tests can hand the loader small synthetic files.
  std::map<std::string, Image> images;
  std::map<std::string, int> opened_fds;
  /// Files that read_file finds: path -> content. Missing paths fail with ENOENT.
  std::map<std::string, std::string> files;
  /// How often each path was passed to open_image, and to read_file or read_prefix.
  std::map<std::string, int> open_counts, read_counts;
  bool cap_sys_boot = true;
  /// errno the next kexec_file_load calls return (0 = success).
  int file_load_errno = 0;
  /// On success, update the sysfs flags in `files` as the kernel would.
  bool track_sysfs = true;

  /// One recorded kexec_load call, with copies of the segment bytes.
  struct LoadCall {
    std::uint64_t entry = 0;
    struct Segment {
      std::string bytes;
      std::uint64_t mem = 0;
      std::uint64_t memsz = 0;
    };
    std::vector<Segment> segments;
    unsigned long flags = 0;
  };
  /// errno the next kexec_load calls return (0 = success).
  int load_errno = 0;

  std::vector<FileLoadCall> file_load_calls;
  std::vector<LoadCall> load_calls;
  int kexec_load_calls = 0;
  int reboot_calls = 0;

  /// Fills files with a machine that has crash support, nothing loaded, and lockdown none.
  void set_kexec_state(bool crash_loaded, bool reboot_loaded, std::uint64_t crash_size);

  Result<OpenedImage> open_image(const std::string& path) override;
  Status kexec_file_load(int kernel_fd, int initrd_fd, std::span<const char> cmdline,
                         unsigned long flags) override;
  Status kexec_load(std::uint64_t entry, std::span<const KexecSegment> segments,
                    unsigned long flags) override;
  Result<std::string> read_file(const std::string& path) override;
  Result<std::string> read_prefix(const std::string& path, std::size_t max_bytes) override;
  bool has_cap_sys_boot() override { return cap_sys_boot; }
  Status reboot_kexec() override;
  /// Records (path, text); a write to /proc/sysrq-trigger is the "crash". A path listed in
  /// control_errno fails with that errno (after being recorded); a successful write to a path
  /// in `files` replaces its content, as the kernel's sysctl files do.
  Status write_control(const std::string& path, const std::string& text) override;
  std::vector<std::pair<std::string, std::string>> control_writes;
  std::map<std::string, int> control_errno;
};

} // namespace crashkit::loader
