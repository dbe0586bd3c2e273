#pragma once
/// The loader's only door to the kernel: the kexec syscalls, reads of /proc and /sys, and the
/// kexec reboot. Everything above it takes a KexecSys& so tests can record the arguments with
/// FakeKexecSys (tests/support) instead of loading a kernel.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::loader {

/// Flags of kexec_file_load(2) (include/uapi/linux/kexec.h); spelled out so old headers work.
inline constexpr unsigned long kKexecFileUnload = 0x01;
inline constexpr unsigned long kKexecFileOnCrash = 0x02;
inline constexpr unsigned long kKexecFileNoInitramfs = 0x04;
inline constexpr unsigned long kKexecFileDebug = 0x08; ///< ~v6.8+, EINVAL on older kernels

/// Flags of kexec_load(2).
inline constexpr unsigned long kKexecOnCrash = 0x01;
inline constexpr unsigned long kKexecArchX86_64 = 62ul << 16;

/// One kexec_load(2) segment (struct kexec_segment): bufsz bytes from buf placed at physical
/// address mem, zero-filled up to memsz.
struct KexecSegment {
  const void* buf = nullptr;
  std::uint64_t bufsz = 0;
  std::uint64_t mem = 0;
  std::uint64_t memsz = 0;
};

/// An image opened for the kernel to read (kernel, initrd), with its size for advice messages.
struct OpenedImage {
  UniqueFd fd;
  std::uint64_t size = 0;
};

/// Abstract syscall interface. Implementations are not thread-safe.
class KexecSys {
public:
  virtual ~KexecSys() = default;

  /// Opens path read-only (O_CLOEXEC) and reports its size. Errors: no_input (ENOENT, EACCES).
  virtual Result<OpenedImage> open_image(const std::string& path) = 0;

  /// kexec_file_load(2). cmdline is passed with its length as given: it must already include
  /// the terminating NUL (empty span = no command line). The error carries the syscall's errno.
  virtual Status kexec_file_load(int kernel_fd, int initrd_fd, std::span<const char> cmdline,
                                 unsigned long flags) = 0;

  /// kexec_load(2). The error carries the syscall's errno.
  virtual Status kexec_load(std::uint64_t entry, std::span<const KexecSegment> segments,
                            unsigned long flags) = 0;

  /// Whole text of a /proc or /sys file. Errors: no_input when missing/unreadable.
  virtual Result<std::string> read_file(const std::string& path) = 0;

  /// At most max_bytes from the start of a /proc or /sys file (binary: /proc/kcore's headers,
  /// /sys/kernel/boot_params/data). Errors: no_input when missing/unreadable.
  virtual Result<std::string> read_prefix(const std::string& path, std::size_t max_bytes) = 0;

  /// True when the process holds CAP_SYS_BOOT in its effective set.
  virtual bool has_cap_sys_boot() = 0;

  /// sync(2) then reboot(2) into the loaded normal-slot kernel; returns only on error.
  virtual Status reboot_kexec() = 0;

  /// Writes text to a /proc or /sys control file (/proc/sys/kernel/sysrq,
  /// /proc/sysrq-trigger). Errors: the write's errno, naming the file.
  virtual Status write_control(const std::string& path, const std::string& text) = 0;
};

/// The real kernel. Reads of /proc and /sys are made below sysroot when it is non-empty (tests
/// and `crashkit --sysroot`); syscalls always go to the running kernel.
class RealKexecSys final : public KexecSys {
public:
  explicit RealKexecSys(std::string sysroot = {}) : sysroot_(std::move(sysroot)) {}

  Result<OpenedImage> open_image(const std::string& path) override;
  Status kexec_file_load(int kernel_fd, int initrd_fd, std::span<const char> cmdline,
                         unsigned long flags) override;
  Status kexec_load(std::uint64_t entry, std::span<const KexecSegment> segments,
                    unsigned long flags) override;
  Result<std::string> read_file(const std::string& path) override;
  Result<std::string> read_prefix(const std::string& path, std::size_t max_bytes) override;
  bool has_cap_sys_boot() override;
  Status reboot_kexec() override;
  Status write_control(const std::string& path, const std::string& text) override;

private:
  std::string sysroot_;
};

} // namespace crashkit::loader
