#pragma once
/// `crashkit estimate`: how much crash memory the capture environment needs, part by part,
/// against what is reserved. The parts are what a capture kernel holds at the moment the dump
/// is written: its own image (from the vmlinux inside the bzImage), struct pages for the
/// reservation, the kernel's runtime allocations, the unpacked capture initramfs and
/// crashkit-capture's working set.

#include <cstdint>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::admin {

/// Measured on Debian 12's 6.1 kernel under QEMU with crashkernel=96M (2 GiB guest): the
/// capture kernel's early reservations besides image, initrd and struct pages (~10.7 MiB) plus
/// its slab, stacks and page tables while the dump is written (~17.5 MiB), less the ~4.3 MiB
/// by which the section sum below exceeds what the kernel reports resident (alignment padding
/// it frees). With it the estimate for that guest is 94 MiB: 96M works, which matches.
inline constexpr std::uint64_t kKernelRuntimeBytes = 24ull << 20;
/// crashkit-capture's peak RSS in low-memory mode (what the capture init uses below 160 MiB).
inline constexpr std::uint64_t kCaptureToolBytes = 11ull << 20;

struct EstimatePart {
  std::string name;
  std::uint64_t bytes = 0;
  std::string how; ///< where the figure comes from
};

struct Estimate {
  std::vector<EstimatePart> parts;
  std::uint64_t total() const;
};

/// Resident size of the vmlinux compressed inside a bzImage: its allocated sections except
/// .init*, .exit*, .brk and .data..percpu (payload at setup_size + payload_offset (0x248),
/// payload_length bytes (0x24c); xz, gzip, zstd, lz4... unpacked with libarchive, read with
/// libelf). Errors: data naming the image.
Result<std::uint64_t> kernel_resident_bytes(const std::string& bzimage_path);

/// Bytes of the unpacked capture initramfs (zstd, as `crashkit rebuild` writes it). Errors:
/// data/no_input naming the image.
Result<std::uint64_t> initramfs_unpacked_bytes(const std::string& image_path);

/// The estimate for a reservation of `reserved` bytes.
Result<Estimate> estimate_capture_memory(const std::string& kernel, const std::string& initramfs,
                                         std::uint64_t reserved);

/// The table `crashkit estimate` prints, then estimate_verdict().
std::string format_estimate(const Estimate& e, std::uint64_t reserved);

/// One line (with its newline) judging `reserved` against the estimated total: what is to
/// spare, a WARNING when it is smaller, or that nothing is reserved.
std::string estimate_verdict(std::uint64_t total, std::uint64_t reserved);

} // namespace crashkit::admin
