#include "crashkit/loader/load_advice.hpp"

#include <cerrno>
#include <string>

namespace crashkit::loader {
namespace {

std::string images_size(const AdviceContext& c) {
  std::string s = "kernel " + human_size(c.kernel_size);
  if (c.initrd_size)
    s += " + initrd " + human_size(*c.initrd_size);
  return s;
}

} // namespace

bool is_signature_errno(int err) {
  switch (err) {
  case EKEYREJECTED:
  case ENOKEY:
  case EBADMSG:
  case ENODATA:
  case ENOPKG:
  case ELIBBAD:
  case EMSGSIZE:
    return true;
  default:
    return false;
  }
}

std::string load_advice(int err, const AdviceContext& c) {
  if (is_signature_errno(err))
    err = EKEYREJECTED;
  const bool panic = c.slot == Slot::panic;
  switch (err) {
  case EADDRNOTAVAIL:
  case ENOMEM:
    if (panic && !c.unload) {
      if (!c.crash_size || *c.crash_size == 0)
        return "no crash memory is reserved: add crashkernel=512M (or crashkernel=256M for "
               "small machines) to the kernel command line in the boot loader and reboot";
      return "the images (" + images_size(c) + ") do not fit in the crash reservation of " +
             human_size(*c.crash_size) +
             " with room for the capture kernel to run: raise crashkernel= and reboot, or use "
             "a smaller initrd";
    }
    return "not enough memory to stage the images (" + images_size(c) + ")";
  case ENOEXEC:
#if defined(__aarch64__)
    return "the kernel did not accept this image: arm64 needs an uncompressed Image (not a "
           "gzip or EFI-zboot vmlinuz)";
#else
    return "the kernel did not accept this image: pass a 64-bit bzImage (vmlinuz) that can be "
           "loaded above 4 GiB, not an ELF vmlinux or a compressed file";
#endif
  case EKEYREJECTED: // the rest of is_signature_errno() is handled before the switch
    return "the kernel image's signature was rejected (signatures are enforced): use a kernel "
           "signed by a key in the kernel's trusted or platform (MOK) keyring";
  case EPERM:
    if (!c.cap_sys_boot)
      return "permission denied: run as root (CAP_SYS_BOOT is needed)";
    if (c.lockdown == Lockdown::integrity || c.lockdown == Lockdown::confidentiality)
      return std::string("kernel lockdown (") + lockdown_name(c.lockdown) +
             ") is active and the image's signature did not verify: use a signed kernel";
    if (c.load_disabled && *c.load_disabled)
      return "kexec is disabled until reboot (kernel.kexec_load_disabled=1)";
    return std::string("the kernel refused the ") + (c.unload ? "unload" : "load") +
           ": check kernel.kexec_load_disabled, kernel.kexec_load_limit_" +
           (panic ? "panic" : "reboot") +
           ", and seccomp filters (systemd SystemCallFilter=@reboot)";
  case EBUSY:
    return "another kexec load, unload or crash-hotplug update holds the kexec lock: retry in "
           "a moment";
  case EINVAL:
    if (c.cmdline_len > kX86MaxCmdlineLen)
      return "the command line is " + std::to_string(c.cmdline_len) +
             " bytes with its NUL, more than the " + std::to_string(kX86MaxCmdlineLen) +
             " a bzImage accepts: shorten it";
    return "the kernel rejected the arguments (command line or flags); a kernel older than "
           "the flags used, or an image with a too small command-line limit";
  case ENOSYS:
    return "this kernel has no kexec_file_load (CONFIG_KEXEC_FILE is off)";
  case EACCES:
    return "an IMA appraisal policy rejected the file: sign it or adjust the IMA policy";
  case EFBIG:
    return "the image is larger than the 4 GiB the kernel reads";
  case ETXTBSY:
    return "the image is open for writing by another process: wait for it to finish";
  case EBADF:
    return "the kernel could not read the initrd file descriptor";
  case ENOENT:
    return panic ? "no panic kernel is loaded" : "no kernel is loaded for reboot";
  default:
    break;
  }
  return std::string(c.unload ? "unload" : "load") + " failed";
}

} // namespace crashkit::loader
