#include "crashkit/base/result.hpp"

#include <cstdio>
#include <cstring>

namespace crashkit {

std::string Error::message() const {
  std::string out;
  if (!path_.empty())
    out += path_ + ": ";
  out += what_;
  if (offset_) {
    char buf[40];
    std::snprintf(buf, sizeof buf, " at offset 0x%llx", static_cast<unsigned long long>(*offset_));
    out += buf;
  }
  if (errno_ != 0)
    out += std::string(" (") + std::strerror(errno_) + ")";
  return out;
}

int exit_code_for(ErrorCategory c) {
  switch (c) {
  case ErrorCategory::usage:
    return 64;
  case ErrorCategory::data:
    return 65;
  case ErrorCategory::no_input:
    return 66;
  case ErrorCategory::unsupported:
    return 70;
  case ErrorCategory::internal:
    return 70;
  case ErrorCategory::io:
    return 74;
  case ErrorCategory::no_space:
    return 73;
  case ErrorCategory::exists:
    return 73;
  }
  return 1;
}

} // namespace crashkit

#include "crashkit/base/hex.hpp"

namespace crashkit {

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

} // namespace crashkit
