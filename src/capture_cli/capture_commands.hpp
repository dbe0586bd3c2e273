#pragma once
// Carries out a parsed crashkit-capture command line; returns the process exit code.
// Exit codes: 0 done; 3 done but some pages were unreadable (recorded as missing); 64 usage;
// 65 malformed input; 66 input missing; 70 unsupported; 73 disk full / output exists; 74 I/O.

#include "capture_options.hpp"

namespace crashkit::cli {

int run_capture_command(const CaptureOptions& opts);

} // namespace crashkit::cli
