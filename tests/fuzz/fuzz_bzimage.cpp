// The bzImage setup header the loader reads before kexec: the input is the file's head, and
// its first 8 bytes (little-endian) add to its length to give the file size the header is
// checked against.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "crashkit/loader/bzimage.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8)
    return 0;
  std::uint64_t extra = 0;
  std::memcpy(&extra, data, 8);
  const std::span<const std::byte> head(reinterpret_cast<const std::byte*>(data) + 8, size - 8);
  // The file is at least the head, whatever the size word says.
  const std::uint64_t file_size = head.size() + (extra >> 16);
  auto bz = crashkit::loader::parse_bzimage(head, file_size, "bzImage");
  if (bz && (bz->setup_size > file_size || bz->payload_size > file_size))
    crashkit::fuzz::property_failed("parsed sizes exceed the file");
  return 0;
}
