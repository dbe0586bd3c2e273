#pragma once
// A synthetic bzImage: real setup-header layout (as Debian 12's 6.1 vmlinuz has it) around a
// patterned payload, so loader tests need no kernel download.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace crashkit::loader::samples {

struct BzImageShape {
  std::size_t payload = 64 * 1024;
  std::uint8_t setup_sects = 4;
  std::uint16_t protocol = 0x020f;
  std::uint16_t xloadflags = 0x7f;
  std::uint32_t kernel_alignment = 0x200000;
  std::uint8_t relocatable = 1;
  std::uint64_t pref_address = 0x1000000;
  std::uint32_t init_size = 0x3f98000;
  std::uint32_t cmdline_size = 2047;
  std::uint32_t initrd_addr_max = 0x7fffffff;
  std::size_t drop_tail = 0; // bytes cut from the end (a truncated copy)
};

inline std::vector<std::byte> synthetic_bzimage(const BzImageShape& s = {}) {
  const std::size_t setup = (std::size_t{s.setup_sects ? s.setup_sects : 4u} + 1) * 512;
  std::vector<std::byte> img(setup + s.payload, std::byte{0});
  auto put = [&](std::size_t off, auto v) { std::memcpy(img.data() + off, &v, sizeof v); };
  put(0x1f1, s.setup_sects);
  put(0x1f4, static_cast<std::uint32_t>((s.payload + 15) / 16));
  put(0x1fe, std::uint16_t{0xaa55});
  put(0x200, std::uint8_t{0xeb});
  put(0x201, std::uint8_t{0x6a}); // header ends at 0x26c
  std::memcpy(img.data() + 0x202, "HdrS", 4);
  put(0x206, s.protocol);
  put(0x211, std::uint8_t{1});
  put(0x22c, s.initrd_addr_max);
  put(0x230, s.kernel_alignment);
  put(0x234, s.relocatable);
  put(0x236, s.xloadflags);
  put(0x238, s.cmdline_size);
  put(0x258, s.pref_address);
  put(0x260, s.init_size);
  for (std::size_t i = 0; i < s.payload; ++i)
    img[setup + i] = static_cast<std::byte>((i * 131 + 7) & 0xff);
  img.resize(img.size() - s.drop_tail);
  return img;
}

inline void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

} // namespace crashkit::loader::samples
