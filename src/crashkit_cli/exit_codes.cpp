#include "exit_codes.hpp"

#include <cerrno>
#include <cstdio>

namespace crashkit::cli {

int exit_code_for_error(const Error& e) {
  switch (e.sys_errno()) {
    case EADDRNOTAVAIL:
    case ENOMEM:
      return kExitUnavailable;
    case EBUSY:
      return kExitTempFail;
    case EPERM:
    case EACCES:
    case EKEYREJECTED:
    case ENOKEY:
    case EBADMSG:
    case ENODATA:
    case ENOPKG:
    case ELIBBAD:
    case EMSGSIZE:
      return kExitNoPerm;
    default:
      return exit_code_for(e.category());
  }
}

int report_error(const Error& e) {
  std::fprintf(stderr, "crashkit: %s\n", e.message().c_str());
  return exit_code_for_error(e);
}

}  // namespace crashkit::cli
