// dmesg over a fuzzed memory image: the input is VMCOREINFO text, a NUL, then up to 64 KiB of
// kernel memory mapped at kBase (virtual) = 0 (physical), as the synthetic rings of
// tests/capture/test_dmesg.cpp are. The seeds hold a 6.1 lockless ring, a 5.4 record buffer
// and a plain < 3.5 buffer.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "crashkit/capture/dmesg.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr std::uint64_t kBase = 0xffffffff82000000ULL;
constexpr std::size_t kMaxImage = 64 * 1024;

class ImageMemory final : public crashkit::capture::KernelMemory {
public:
  explicit ImageMemory(std::string_view image) : bytes_(image.begin(), image.end()) {}

  crashkit::Status read_phys(std::uint64_t paddr, void* buf, std::size_t len) override {
    if (paddr > bytes_.size() || len > bytes_.size() - paddr)
      return crashkit::Error(crashkit::ErrorCategory::io, "image: hole");
    std::memcpy(buf, bytes_.data() + paddr, len);
    return {};
  }
  crashkit::Result<std::uint64_t> vtop(std::uint64_t vaddr) override {
    if (vaddr < kBase || vaddr - kBase >= bytes_.size())
      return crashkit::Error(crashkit::ErrorCategory::data, "image: unmapped");
    return vaddr - kBase;
  }

private:
  std::vector<char> bytes_;
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [text, image] = crashkit::fuzz::split_at_nul(data, size);
  if (image.size() > kMaxImage)
    return -1;
  ImageMemory mem(image);
  const auto info = crashkit::capture::Vmcoreinfo::parse(std::string(text));
  crashkit::capture::DmesgStats stats;
  (void)crashkit::capture::extract_dmesg(mem, info, stats);
  return 0;
}
