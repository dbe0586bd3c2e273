// /proc/iomem: parsed, turned into the crashkernel reservation and the capture kernel's e820.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "crashkit/loader/e820.hpp"
#include "crashkit/loader/reservation.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto entries = crashkit::loader::parse_iomem(text);
  if (!entries)
    return 0;
  for (const auto& e : *entries)
    if (e.end < e.start)
      crashkit::fuzz::property_failed("an entry ends before it starts");
  (void)crashkit::loader::reservation_from_iomem(*entries);
  if (auto e820 = crashkit::loader::capture_e820(*entries)) {
    std::vector<std::byte> boot_params(4096);
    (void)crashkit::loader::write_e820_table(boot_params, *e820);
  }
  (void)crashkit::loader::parse_lockdown(text);
  (void)crashkit::loader::parse_sysfs_u64(text);
  return 0;
}
