#include "exit_codes.hpp"

#include <cerrno>
#include <cstdio>

#include "crashkit/loader/load_advice.hpp"

namespace crashkit::cli {

int exit_code_for_error(const Error& e) {
  switch (loader::is_signature_errno(e.sys_errno()) ? EPERM : e.sys_errno()) {
  case EADDRNOTAVAIL:
  case ENOMEM:
    return kExitUnavailable;
  case EBUSY:
    return kExitTempFail;
  case EPERM:
  case EACCES:
    return kExitNoPerm;
  default:
    return exit_code_for(e.category());
  }
}

int report_error(const Error& e) {
  std::fprintf(stderr, "crashkit: %s\n", e.message().c_str());
  return exit_code_for_error(e);
}

} // namespace crashkit::cli
