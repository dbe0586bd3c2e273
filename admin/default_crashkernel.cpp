#include "crashkit/admin/default_crashkernel.hpp"

#include <sys/utsname.h>

namespace crashkit::admin {

Result<std::string> default_crashkernel(std::string_view machine) {
  if (machine == "x86_64")
    return std::string("1G-64G:160M,64G-1T:256M,1T-:512M");
  // arm64 kernels commonly use 64 KiB pages and reserve more per page of capture memory;
  // its CMA/low-memory split is handled by the kernel (",low" is added automatically).
  if (machine == "aarch64")
    return std::string("1G-4G:256M,4G-64G:320M,64G-:576M");
  return Error(ErrorCategory::unsupported,
               "no default crashkernel= for " + std::string(machine) +
                   ": crashkit supports x86_64 (and aarch64 sizing); give a value explicitly");
}

std::string running_machine() {
  utsname u{};
  if (::uname(&u) != 0)
    return {};
  return u.machine;
}

std::string running_release() {
  utsname u{};
  if (::uname(&u) != 0)
    return {};
  return u.release;
}

} // namespace crashkit::admin
