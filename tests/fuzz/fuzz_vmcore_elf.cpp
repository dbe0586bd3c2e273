// The vmcore as bytes: ELF header, program headers, PT_NOTE notes, VMCOREINFO text and the
// memory the filter and dmesg read, all from the input.

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"
#include "vmcore_pipeline.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = crashkit::fuzz::scratch_dir() + "/vmcore";
  crashkit::fuzz::write_file(path, data, size);
  crashkit::fuzz::run_vmcore_pipeline(path, 31);
  return 0;
}
