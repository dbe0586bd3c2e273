#include "crashkit/loader/bzimage.hpp"

#include <cstring>

#include "crashkit/base/hex.hpp"

namespace crashkit::loader {
namespace {

template <typename T> T le(std::span<const std::byte> b, std::size_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof v); // x86 only: the host is little-endian
  return v;
}

Error bad(const std::string& name, const std::string& what) {
  return Error(ErrorCategory::data, name + ": " + what);
}

} // namespace

Result<BzImage> parse_bzimage(std::span<const std::byte> head, std::uint64_t file_size,
                              const std::string& name) {
  if (head.size() < kBzImageHeaderBytes)
    return bad(name, "not a bzImage (" + std::to_string(file_size) +
                         " bytes, shorter than a setup header)");
  if (le<std::uint16_t>(head, kHdrBootFlag) != 0xaa55 ||
      std::memcmp(head.data() + kHdrMagic, "HdrS", 4) != 0)
    return bad(name, "not a bzImage (no boot flag 0xaa55 at offset 0x1fe and \"HdrS\" at 0x202): "
                     "pass the vmlinuz a boot loader would boot, not a vmlinux or a compressed "
                     "file");
  BzImage img;
  img.protocol = le<std::uint16_t>(head, kHdrVersion);
  if (img.protocol < 0x020c)
    return bad(name, "boot protocol " + std::to_string(img.protocol >> 8) + "." +
                         std::to_string(img.protocol & 0xff) +
                         " (offset 0x206) is older than 2.12; a 64-bit kexec load needs 2.12+");
  const unsigned sects = std::to_integer<unsigned>(head[kHdrSetupSects]);
  img.setup_size = static_cast<std::size_t>((sects ? sects : 4) + 1) * 512;
  img.header_end = kHdrMagic + std::to_integer<unsigned>(head[kHdrJump + 1]);
  if (img.header_end < kBzImageHeaderBytes || img.header_end > img.setup_size)
    return bad(name, "setup header end " + hex(img.header_end) +
                         " (from the jump at 0x200) is "
                         "outside the setup sectors");
  const std::uint64_t declared = std::uint64_t{le<std::uint32_t>(head, kHdrSyssize)} * 16;
  if (file_size < img.setup_size + declared)
    return bad(name, "truncated: the setup header (offsets 0x1f1, 0x1f4) declares " +
                         std::to_string(img.setup_size + declared) + " bytes, the file has " +
                         std::to_string(file_size));
  img.payload_size = file_size - img.setup_size;
  img.xloadflags = le<std::uint16_t>(head, kHdrXloadflags);
  if (!(img.xloadflags & kXlfKernel64))
    return bad(name, "no 64-bit entry point (xloadflags at 0x236 lacks XLF_KERNEL_64)");
  img.relocatable = std::to_integer<unsigned>(head[kHdrRelocatable]) != 0;
  img.kernel_alignment = le<std::uint32_t>(head, kHdrKernelAlignment);
  if (img.kernel_alignment < 4096 || (img.kernel_alignment & (img.kernel_alignment - 1)))
    return bad(name, "kernel_alignment " + hex(img.kernel_alignment) +
                         " (offset 0x230) is not a power of two of at least 4096");
  img.pref_address = le<std::uint64_t>(head, kHdrPrefAddress);
  img.init_size = le<std::uint32_t>(head, kHdrInitSize);
  if (img.init_size < img.payload_size)
    return bad(name, "init_size " + hex(img.init_size) +
                         " (offset 0x260) is smaller than the "
                         "payload of " +
                         std::to_string(img.payload_size) + " bytes");
  img.cmdline_size = le<std::uint32_t>(head, kHdrCmdlineSize);
  img.initrd_addr_max = le<std::uint32_t>(head, kHdrInitrdAddrMax);
  return img;
}

} // namespace crashkit::loader
