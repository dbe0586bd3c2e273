#include <blkid/blkid.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "crashkit/base/process.hpp"
#include "crashkit/capture_init/device_signature.hpp"
#include "crashkit/capture_init/init_sys.hpp"

extern char** environ;

namespace crashkit::capture_init {

Status RealInitSys::mount(const std::string& source, const std::string& target,
                          const std::string& fstype, unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), fstype.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    return Error::from_errno(errno, "mount " + source + " (" + fstype + ")").with_path(target);
  return {};
}

Status RealInitSys::unmount(const std::string& target) {
  if (::umount(target.c_str()) != 0)
    return Error::from_errno(errno, "umount").with_path(target);
  return {};
}

void RealInitSys::attach_console() {
  int fd = ::open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0) {
    ::dup2(fd, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (fd > 2)
      ::close(fd);
    return;
  }
  // No console device (console= pointing nowhere): the kernel log still reaches the serial line.
  fd = ::open("/dev/kmsg", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (fd > 2)
      ::close(fd);
  }
}

// Why not libkmod here: the builder already resolved dependencies and order with libkmod and
// stores plain .ko files (decompressed at build time), so inserting one is a single
// finit_module(2). Linking libkmod into the capture binary would pull in libcrypto and liblzma,
// 1.6 MB of the 4 MB the whole capture initramfs may take.
Status RealInitSys::load_module(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error::from_errno(errno, "open module").with_path(path);
  const long rc = ::syscall(SYS_finit_module, fd, "", 0);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EEXIST)
    return Error::from_errno(err, "finit_module").with_path(path);
  // The kernel has its own copy now; the file's pages in the initramfs (ramfs, never paged
  // out) are memory the capture needs: ext4.ko alone is 2 MB of a ~30 MB budget at 96M.
  ::unlink(path.c_str());
  return {};
}

Result<std::string> RealInitSys::find_device(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || spec.starts_with("/")) {
    struct stat st {};
    if (::stat(spec.c_str(), &st) != 0)
      return Error::from_errno(errno, "device").with_path(spec);
    return spec;
  }
  // A fresh cache each time: a cache from an earlier poll would remember that the device was
  // missing. /dev/null as the cache file keeps libblkid from reading or writing blkid.tab.
  blkid_cache cache = nullptr;
  if (blkid_get_cache(&cache, "/dev/null") != 0)
    return Error(ErrorCategory::internal, "blkid_get_cache failed");
  char* dev = blkid_evaluate_tag(spec.substr(0, eq).c_str(), spec.substr(eq + 1).c_str(), &cache);
  blkid_put_cache(cache);
  if (!dev)
    return Error(ErrorCategory::no_input, "no block device with " + spec);
  std::string out = dev;
  std::free(dev);
  return out;
}

Result<std::string> RealInitSys::probe_fstype(const std::string& device) {
  blkid_cache cache = nullptr;
  if (blkid_get_cache(&cache, "/dev/null") != 0)
    return Error(ErrorCategory::internal, "blkid_get_cache failed");
  char* type = blkid_get_tag_value(cache, "TYPE", device.c_str());
  blkid_put_cache(cache);
  if (!type)
    return Error(ErrorCategory::no_input, "no filesystem recognised").with_path(device);
  std::string out = type;
  std::free(type);
  return out;
}

Result<std::optional<std::string>> RealInitSys::foreign_signature(const std::string& device) {
  return probe_foreign_signature(device);
}

Result<FsSpace> RealInitSys::space(const std::string& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0)
    return Error::from_errno(errno, "statvfs").with_path(dir);
  return FsSpace{static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize};
}

double RealInitSys::monotonic() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::time_t RealInitSys::wall_time() {
  return std::time(nullptr);
}

void RealInitSys::sleep_ms(unsigned ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

Result<int> RealInitSys::run(const std::vector<std::string>& argv,
                             std::optional<double> timeout_s) {
  auto rc = spawn_wait(argv, timeout_s);
  if (rc && *rc < 0)
    return 128 - *rc; // the shell's convention for "killed by signal N"
  return rc;
}

void RealInitSys::sync() {
  ::sync();
}

Status RealInitSys::power(PowerAction a) {
  int cmd = RB_AUTOBOOT;
  if (a == PowerAction::halt)
    cmd = RB_HALT_SYSTEM;
  else if (a == PowerAction::poweroff)
    cmd = RB_POWER_OFF;
  if (::reboot(cmd) != 0)
    return Error::from_errno(errno, "reboot(2)");
  return {};
}

Status RealInitSys::exec_shell() {
  if (::access("/bin/sh", X_OK) != 0)
    return Error::from_errno(errno, "/bin/sh");
  char arg0[] = "sh";
  char* const args[] = {arg0, nullptr};
  ::execve("/bin/sh", args, environ);
  return Error::from_errno(errno, "execve /bin/sh");
}

} // namespace crashkit::capture_init
