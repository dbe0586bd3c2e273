#pragma once
/// The crashkernel= value crashkit recommends when the administrator gives none
/// (`crashkit get-default-crashkernel`, `reset-crashkernel` without --value, `crashkernel auto`).

#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"

namespace crashkit::admin {

/// A range-form value for the machine type (uname -m), e.g. "1G-64G:160M,64G-1T:256M,1T-:512M"
/// on x86_64. Why these sizes: crashkit's capture environment is one static-size binary plus
/// the storage modules (no systemd, no shell); a busybox-sized capture initramfs boots in 96M
/// on Debian 12's 6.1 kernel and fails at 80M (tests/vm notes), and crashkit-capture's own
/// memory is bounded (bitmaps are per 2^23-page cycle: 22 MiB at 1 TiB of RAM). What still
/// grows with the machine is driver memory for bigger storage/NIC setups and the capture
/// kernel's own page tables, hence the steps. Below 1 GiB nothing is reserved (the kernel
/// reads a range that starts at 1G that way). Errors: unsupported for other architectures.
Result<std::string> default_crashkernel(std::string_view machine);

/// uname(2)'s machine field.
std::string running_machine();
/// uname(2)'s release field: the running kernel, the default capture kernel.
std::string running_release();

} // namespace crashkit::admin
