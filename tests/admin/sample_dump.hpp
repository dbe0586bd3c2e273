#pragma once
// Real dumps for the admin tests: a small synthetic core (the fixture builder) captured by
// run_capture() into a kdump-compressed file, an ELF file, or a flattened stream, as the
// capture environment writes them.

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"
#include "temp_root.hpp"

namespace crashkit::admin::testing {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

/// A 24 MiB core with every page kind, written to `path`.
inline void make_core(const std::string& path) {
  fixtures::VmcoreSpec spec;
  spec.cpus = 2;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}};
  auto b = fixtures::VmcoreBuilder::create(spec);
  REQUIRE(b);
  REQUIRE(b->fill_mix(5));
  REQUIRE(b->write(path));
}

inline capture::CaptureRequest request(const std::string& core, capture::DumpFormat fmt) {
  capture::CaptureRequest req;
  req.vmcore = core;
  req.format = fmt;
  req.compression = capture::Compression::zstd;
  req.threads = 1;
  return req;
}

/// The dump of `core` in `fmt`, saved to `out` as the capture saves a file.
inline void capture_file(const std::string& core, const std::string& out,
                         capture::DumpFormat fmt = capture::DumpFormat::kdump) {
  auto sink = capture::FileSink::create(out, true);
  REQUIRE(sink);
  auto st = capture::run_capture(request(core, fmt), **sink, {});
  if (!st)
    FAIL(st.error().message());
  REQUIRE((*sink)->finish());
}

/// The flattened stream of `core` (kdump format, as a raw target gets it).
inline std::string capture_stream(const std::string& core, const std::string& scratch) {
  {
    UniqueFd fd(::open(scratch.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    REQUIRE(fd.valid());
    capture::FlatSink sink(fd.get(), scratch);
    auto st = capture::run_capture(request(core, capture::DumpFormat::kdump), sink, {});
    if (!st)
      FAIL(st.error().message());
    REQUIRE(sink.finish());
  }
  return slurp(scratch);
}

/// One core and its kdump, ELF and flattened dumps per test process: building them is the slow
/// part.
struct Samples {
  TempRoot dir{"crashkit-samples"};
  std::string core = (dir.p / "core").string();
  std::string kdump = (dir.p / "vmcore.kdump").string();
  std::string elf = (dir.p / "vmcore.elf").string();
  std::string stream; ///< the flattened stream of the same capture (kdump format)
  Samples() {
    make_core(core);
    capture_file(core, kdump);
    capture_file(core, elf, capture::DumpFormat::elf);
    stream = capture_stream(core, (dir.p / "stream").string());
  }
};
inline const Samples& samples() {
  static Samples s;
  return s;
}

} // namespace crashkit::admin::testing
