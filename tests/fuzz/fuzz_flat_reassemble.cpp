// `crashkit-capture -R`: a flattened (makedumpfile -F) stream from the input, reassembled
// into a file.

#include <cstddef>
#include <cstdint>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

#include "crashkit/capture/output_sink.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string in = crashkit::fuzz::scratch_dir() + "/stream";
  const std::string out = crashkit::fuzz::scratch_dir() + "/vmcore";
  crashkit::fuzz::write_file(in, data, size);
  const int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    std::abort();
  (void)crashkit::capture::reassemble_flattened(fd, "<stdin>", out, true);
  ::close(fd);
  ::unlink(out.c_str());
  ::unlink((out + ".incomplete").c_str());
  return 0;
}
