#include "crashkit/loader/boot_params.hpp"

#include <algorithm>
#include <cstring>

namespace crashkit::loader {
namespace {

template <typename T> void put(std::vector<std::byte>& b, std::size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v); // x86 only: little-endian like the zero page
}

} // namespace

Result<std::vector<std::byte>> build_boot_params(const BootParamsRequest& req) {
  const auto& img = req.image;
  if (req.cmdline.size() > img.cmdline_size)
    return Error(ErrorCategory::usage,
                 "the capture command line is " + std::to_string(req.cmdline.size() + 1) +
                     " bytes with its NUL; this kernel accepts at most " +
                     std::to_string(img.cmdline_size + 1) + ": shorten --append");
  if (req.image_head.size() < img.header_end)
    return Error(ErrorCategory::usage, "build_boot_params: image head shorter than its header");

  std::vector<std::byte> out(kBootParamsSize + req.cmdline.size() + 1, std::byte{0});
  // The setup header tells the kernel about itself (init_size, alignment...): copy it as the
  // image has it, then fill in what a boot loader owns.
  std::copy(req.image_head.begin() + kHdrSetupSects, req.image_head.begin() + img.header_end,
            out.begin() + kHdrSetupSects);
  put<std::uint8_t>(out, kHdrTypeOfLoader, 0xff);
  put<std::uint32_t>(out, kHdrCode32Start, static_cast<std::uint32_t>(req.kernel_addr));

  if (req.initrd_addr) {
    put<std::uint32_t>(out, kHdrRamdiskImage, static_cast<std::uint32_t>(*req.initrd_addr));
    put<std::uint32_t>(out, kBpExtRamdiskImage, static_cast<std::uint32_t>(*req.initrd_addr >> 32));
    put<std::uint32_t>(out, kHdrRamdiskSize, static_cast<std::uint32_t>(req.initrd_size));
    put<std::uint32_t>(out, kBpExtRamdiskSize, static_cast<std::uint32_t>(req.initrd_size >> 32));
  }

  const std::uint64_t cmdline_addr = req.setup_addr + kBootParamsSize;
  put<std::uint32_t>(out, kHdrCmdLinePtr, static_cast<std::uint32_t>(cmdline_addr));
  put<std::uint32_t>(out, kBpExtCmdLinePtr, static_cast<std::uint32_t>(cmdline_addr >> 32));
  std::memcpy(out.data() + kBootParamsSize, req.cmdline.data(), req.cmdline.size());

  if (req.acpi_rsdp && img.protocol >= 0x020e)
    put<std::uint64_t>(out, kBpAcpiRsdpAddr, req.acpi_rsdp);

  CK_TRY(write_e820_table(std::span(out.data(), kBootParamsSize), req.e820));
  return out;
}

} // namespace crashkit::loader
