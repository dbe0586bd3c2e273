// The space estimate is the kdump writer's own layout: for a written file, the estimate minus
// the pages that got no payload of their own is exactly the file's size.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/kdump_format.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture_init/capture_init.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"

namespace {

namespace capture = crashkit::capture;
namespace kdump = crashkit::capture::kdump;
using crashkit::fixtures::VmcoreBuilder;
using crashkit::fixtures::VmcoreSpec;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ck-estimate-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Two RAM ranges, the second above 4 GiB: the bitmaps cover a hole.
std::string write_core(const std::string& dir) {
  VmcoreSpec spec;
  spec.cpus = 2;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}, {0x100000, 0x400}};
  auto b = VmcoreBuilder::create(spec);
  REQUIRE(b);
  REQUIRE(b->fill_mix(11));
  REQUIRE(b->write(dir + "/vmcore"));
  return dir + "/vmcore";
}

void read_at(int fd, void* buf, std::size_t len, std::uint64_t off) {
  REQUIRE(::pread(fd, buf, len, static_cast<off_t>(off)) == static_cast<ssize_t>(len));
}

} // namespace

TEST_CASE("the estimate is the written kdump file's layout", "[init][estimate]") {
  const TempDir tmp;
  const std::string& dir = tmp.path;
  const std::string vmcore = write_core(dir);

  const int level = GENERATE(0, 1, 31);
  CAPTURE(level);
  const auto est = crashkit::capture_init::estimate_dump_bytes(vmcore, level);
  REQUIRE(est);

  // Raw pages, none shared: every page with a payload of its own stores a whole page.
  capture::CaptureRequest req;
  req.vmcore = vmcore;
  req.dump_level = level;
  req.compression = capture::Compression::none;
  req.dedup = false;
  req.threads = 1;
  const std::string out = dir + "/dump-" + std::to_string(level);
  auto sink = capture::FileSink::create(out, false);
  REQUIRE(sink);
  auto stats = capture::run_capture(req, **sink, {});
  REQUIRE(stats);
  REQUIRE((*sink)->finish());

  const int fd = ::open(out.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  kdump::DiskDumpHeader h{};
  read_at(fd, &h, sizeof h, 0);
  const auto B = static_cast<std::uint64_t>(h.block_size);
  const std::uint64_t desc_off =
      (1 + static_cast<std::uint64_t>(h.sub_hdr_size) + h.bitmap_blocks) * B;
  const std::uint64_t data_start = desc_off + stats->dumped_pages * sizeof(kdump::PageDesc);
  const bool shared_zero = level & 1; // else the first payload starts at data_start
  std::uint64_t without_payload = 0;
  for (std::uint64_t i = 0; i < stats->dumped_pages; ++i) {
    kdump::PageDesc d{};
    read_at(fd, &d, sizeof d, desc_off + i * sizeof d);
    if (d.offset == 0 || (shared_zero && static_cast<std::uint64_t>(d.offset) == data_start))
      ++without_payload;
    else
      CHECK(d.size == B);
  }
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  ::close(fd);

  CHECK(stats->written_pages + without_payload == stats->dumped_pages);
  if (level == 0)
    CHECK(without_payload == 0); // zero pages are kept as data at level 0
  else
    CHECK(without_payload > 0);
  CHECK(static_cast<std::uint64_t>(st.st_size) + without_payload * B == *est);
}
