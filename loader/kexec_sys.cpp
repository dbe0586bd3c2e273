#include "crashkit/loader/kexec_sys.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "crashkit/base/io.hpp"

// Older libc headers lack the numbers; values from each arch's syscall table.
#ifndef SYS_kexec_file_load
#if defined(__x86_64__)
#define SYS_kexec_file_load 320
#elif defined(__aarch64__) || defined(__riscv) || defined(__loongarch64)
#define SYS_kexec_file_load 294
#elif defined(__powerpc64__)
#define SYS_kexec_file_load 382
#elif defined(__s390x__)
#define SYS_kexec_file_load 381
#endif
#endif
#ifndef SYS_kexec_load
#if defined(__x86_64__)
#define SYS_kexec_load 246
#elif defined(__aarch64__) || defined(__riscv) || defined(__loongarch64)
#define SYS_kexec_load 104
#endif
#endif

namespace crashkit::loader {

Result<OpenedImage> RealKexecSys::open_image(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error::from_errno(errno, "open").with_path(path);
  OpenedImage img{UniqueFd(fd), 0};
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Error::from_errno(errno, "fstat").with_path(path);
  if (!S_ISREG(st.st_mode))
    return Error(ErrorCategory::usage, "not a regular file").with_path(path);
  img.size = static_cast<std::uint64_t>(st.st_size);
  return img;
}

Status RealKexecSys::kexec_file_load(int kernel_fd, int initrd_fd, std::span<const char> cmdline,
                                     unsigned long flags) {
#ifdef SYS_kexec_file_load
  long rc = ::syscall(SYS_kexec_file_load, kernel_fd, initrd_fd,
                      static_cast<unsigned long>(cmdline.size()),
                      cmdline.empty() ? nullptr : cmdline.data(), flags);
  if (rc != 0)
    return Error::from_errno(errno, "kexec_file_load");
  return {};
#else
  (void)kernel_fd, (void)initrd_fd, (void)cmdline, (void)flags;
  return Error::from_errno(ENOSYS, "kexec_file_load");
#endif
}

Status RealKexecSys::kexec_load(std::uint64_t entry, std::span<const KexecSegment> segments,
                                unsigned long flags) {
#ifdef SYS_kexec_load
  struct Seg { // struct kexec_segment layout: buf, bufsz, mem, memsz
    const void* buf;
    std::size_t bufsz;
    const void* mem;
    std::size_t memsz;
  };
  std::vector<Seg> segs;
  segs.reserve(segments.size());
  for (const auto& s : segments)
    segs.push_back({s.buf, static_cast<std::size_t>(s.bufsz),
                    reinterpret_cast<const void*>(static_cast<std::uintptr_t>(s.mem)),
                    static_cast<std::size_t>(s.memsz)});
  long rc = ::syscall(SYS_kexec_load, static_cast<unsigned long>(entry),
                      static_cast<unsigned long>(segs.size()), segs.data(), flags);
  if (rc != 0)
    return Error::from_errno(errno, "kexec_load");
  return {};
#else
  (void)entry, (void)segments, (void)flags;
  return Error::from_errno(ENOSYS, "kexec_load");
#endif
}

Result<std::string> RealKexecSys::read_file(const std::string& path) {
  return read_whole_file(sysroot_ + path); // procfs and sysfs report size 0: read until EOF
}

Result<std::string> RealKexecSys::read_prefix(const std::string& path, std::size_t max_bytes) {
  const std::string full = sysroot_ + path;
  UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "open").with_path(full);
  std::string out(max_bytes, '\0');
  auto n = CK_TRY(read_full(fd.get(), out.data(), out.size(), full));
  out.resize(n);
  return out;
}

bool RealKexecSys::has_cap_sys_boot() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0)
    return ::geteuid() == 0;
  return (data[CAP_SYS_BOOT / 32].effective & (1u << (CAP_SYS_BOOT % 32))) != 0;
}

Status RealKexecSys::write_control(const std::string& path, const std::string& text) {
  const std::string full = sysroot_ + path;
  UniqueFd fd(::open(full.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "open").with_path(full);
  return write_full(fd.get(), text.data(), text.size(), full);
}

Status RealKexecSys::reboot_kexec() {
  ::sync();
  if (::reboot(RB_KEXEC) != 0)
    return Error::from_errno(errno, "reboot(LINUX_REBOOT_CMD_KEXEC)");
  return {};
}

} // namespace crashkit::loader
