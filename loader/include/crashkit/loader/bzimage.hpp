#pragma once
/// The x86 Linux boot image (bzImage) as Documentation/arch/x86/boot.rst describes it: the
/// real-mode setup sectors with the setup header at 0x1f1, then the protected-mode payload.
/// Parsing checks what a 64-bit kexec load relies on and names the offset of what is wrong.
/// Pure and thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "crashkit/base/result.hpp"

namespace crashkit::loader {

/// Setup header offsets (struct setup_header inside struct boot_params).
inline constexpr std::size_t kHdrSetupSects = 0x1f1;
inline constexpr std::size_t kHdrSyssize = 0x1f4;
inline constexpr std::size_t kHdrBootFlag = 0x1fe;
inline constexpr std::size_t kHdrJump = 0x200;
inline constexpr std::size_t kHdrMagic = 0x202;
inline constexpr std::size_t kHdrVersion = 0x206;
inline constexpr std::size_t kHdrInitrdAddrMax = 0x22c;
inline constexpr std::size_t kHdrKernelAlignment = 0x230;
inline constexpr std::size_t kHdrRelocatable = 0x234;
inline constexpr std::size_t kHdrXloadflags = 0x236;
inline constexpr std::size_t kHdrCmdlineSize = 0x238;
inline constexpr std::size_t kHdrPrefAddress = 0x258;
inline constexpr std::size_t kHdrInitSize = 0x260;
/// Bytes a parser needs to see all of the above (through init_size).
inline constexpr std::size_t kBzImageHeaderBytes = 0x264;

/// xloadflags bits.
inline constexpr std::uint16_t kXlfKernel64 = 1u << 0;
inline constexpr std::uint16_t kXlfCanBeLoadedAbove4G = 1u << 1;

/// Offset of the 64-bit entry point from the payload's load address.
inline constexpr std::uint64_t kEntry64Offset = 0x200;

struct BzImage {
  std::uint16_t protocol = 0;     ///< 0x020f = 2.15
  std::size_t setup_size = 0;     ///< (setup_sects + 1) * 512: where the payload starts
  std::size_t header_end = 0;     ///< end of the setup header (0x202 + the jump's byte)
  std::uint64_t payload_size = 0; ///< file size - setup_size (may include a signature)
  std::uint16_t xloadflags = 0;
  bool relocatable = false;
  std::uint32_t kernel_alignment = 0;
  std::uint64_t pref_address = 0;
  std::uint32_t init_size = 0;    ///< memory the kernel needs from its load address
  std::uint32_t cmdline_size = 0; ///< longest command line, without the NUL
  std::uint32_t initrd_addr_max = 0;
};

/// Parses the header of a bzImage whose first bytes are `head` (at least kBzImageHeaderBytes,
/// or the whole file when shorter) and whose whole size is `file_size`. `name` goes into
/// messages. Errors (data): "NAME: not a bzImage (...)" when the boot flag or "HdrS" is
/// missing; "NAME: truncated: ..." when the file is shorter than the setup sectors plus the
/// payload size the header declares; protocol older than 2.12, no 64-bit entry point, or an
/// alignment that is not a power of two, each naming its offset.
Result<BzImage> parse_bzimage(std::span<const std::byte> head, std::uint64_t file_size,
                              const std::string& name);

} // namespace crashkit::loader
