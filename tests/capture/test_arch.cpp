// The architecture comes from the core's e_machine (arch.hpp): a core of one capture does not
// know gets no translation, keeps every page but the zero ones and names no machine.

#include <catch2/catch.hpp>

#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "crashkit/capture/arch.hpp"
#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/fixtures/malformed.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"
#include "test_dump_reader.hpp"

using namespace crashkit::capture;
using crashkit::testing::KdumpFile;
using crashkit::testing::TempDir;

TEST_CASE("capture arch: e_machine chooses the architecture", "[arch]") {
  CHECK(arch_for_machine(EM_X86_64) == &kArchX86_64);
  CHECK(arch_for_machine(EM_AARCH64) == nullptr);
  CHECK(std::string(kArchX86_64.name) == "x86_64");
}

TEST_CASE("capture arch: a core of an unknown architecture keeps all but zero pages", "[arch]") {
  TempDir dir;
  crashkit::fixtures::VmcoreSpec spec;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}};
  auto b = crashkit::fixtures::VmcoreBuilder::create(spec);
  REQUIRE(b);
  REQUIRE(b->fill_mix(4));
  const std::string path = dir.file("vmcore");
  REQUIRE(b->write(path));
  {
    auto x86 = open_dump(path);
    REQUIRE(x86);
    CHECK(x86->mem);
  }
  const std::uint8_t aarch64[2] = {EM_AARCH64 & 0xff, EM_AARCH64 >> 8};
  REQUIRE(crashkit::fixtures::corrupt_bytes(path, offsetof(Elf64_Ehdr, e_machine), aarch64));

  auto dump = open_dump(path);
  REQUIRE(dump);
  CHECK_FALSE(dump->mem);
  REQUIRE(dump->mem_error);
  CHECK(dump->mem_error->message() == "no kernel-virtual translation for e_machine 183");
  CHECK(dump->core->kernel_text() == nullptr);

  auto sink = FileSink::create(dir.file("dump"), false);
  REQUIRE(sink);
  CaptureRequest req;
  req.vmcore = path;
  req.dump_level = 31;
  req.threads = 1;
  auto stats = run_capture(req, **sink, {});
  REQUIRE(stats);
  REQUIRE((*sink)->finish());
  CHECK(stats->dump_level == 1);
  CHECK(std::find(stats->warnings.begin(), stats->warnings.end(),
                  "not an x86_64 vmcore (e_machine 183): only zero pages can be excluded") !=
        stats->warnings.end());
  const KdumpFile k = KdumpFile::load(dir.file("dump"));
  REQUIRE(k.error.empty());
  CHECK(k.uts[0] == "Linux");
  CHECK(k.uts[4].empty());
}
