#pragma once
/// The zero page (struct boot_params, arch/x86/include/uapi/asm/bootparam.h) handed to a
/// kernel entered through the 64-bit boot protocol, followed by its command line. Pure.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/loader/bzimage.hpp"
#include "crashkit/loader/e820.hpp"

namespace crashkit::loader {

/// boot_params fields outside the setup header.
inline constexpr std::size_t kBpAcpiRsdpAddr = 0x070;
inline constexpr std::size_t kBpExtRamdiskImage = 0x0c0;
inline constexpr std::size_t kBpExtRamdiskSize = 0x0c4;
inline constexpr std::size_t kBpExtCmdLinePtr = 0x0c8;
/// Setup header fields the loader writes.
inline constexpr std::size_t kHdrTypeOfLoader = 0x210;
inline constexpr std::size_t kHdrCode32Start = 0x214;
inline constexpr std::size_t kHdrRamdiskImage = 0x218;
inline constexpr std::size_t kHdrRamdiskSize = 0x21c;
inline constexpr std::size_t kHdrCmdLinePtr = 0x228;

struct BootParamsRequest {
  std::span<const std::byte> image_head; ///< the bzImage's first setup sectors
  BzImage image;
  std::uint64_t setup_addr = 0;  ///< where the zero page goes; the command line follows it
  std::uint64_t kernel_addr = 0; ///< load address of the payload
  std::optional<std::uint64_t> initrd_addr;
  std::uint64_t initrd_size = 0;
  std::string cmdline; ///< without the NUL
  std::vector<E820Entry> e820;
  /// The firmware's ACPI root pointer (0 = let the kernel search for it, which works only
  /// with legacy BIOS).
  std::uint64_t acpi_rsdp = 0;
};

/// Zero page (4096 bytes) + command line + NUL: the setup header copied from the image, loader
/// type 0xff (undefined), code32_start, ramdisk and command-line pointers (low and ext_ high
/// halves), the e820 map and acpi_rsdp_addr (protocol 2.14+). Errors: usage when the command
/// line with its NUL is longer than the image's cmdline_size + 1 (naming both lengths); the
/// e820 errors of write_e820_table().
Result<std::vector<std::byte>> build_boot_params(const BootParamsRequest& req);

} // namespace crashkit::loader
