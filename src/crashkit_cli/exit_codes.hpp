#pragma once
// Exit codes of the crashkit binary (sysexits) and the one-line error report.
//   0 ok; 3 status: no panic kernel armed (kdumpctl's contract); 64 usage; 65 image not
//   accepted; 66 file missing; 69 crash memory missing or too small; 70 not supported or not
//   implemented; 74 I/O; 75 busy, retry; 77 permission, lockdown, signature.

#include "crashkit/base/result.hpp"

namespace crashkit::cli {

inline constexpr int kExitUnavailable = 69;
inline constexpr int kExitTempFail = 75;
inline constexpr int kExitNoPerm = 77;

/// Exit code for an error from the loader: by errno where the kernel told us, else by category.
int exit_code_for_error(const Error& e);

/// Prints "crashkit: MESSAGE" on stderr and returns exit_code_for_error(e).
int report_error(const Error& e);

} // namespace crashkit::cli
