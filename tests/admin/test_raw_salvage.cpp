#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "crashkit/admin/dump_check.hpp"
#include "crashkit/admin/raw_salvage.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "sample_dump.hpp"
#include "temp_root.hpp"

using namespace crashkit;
using Catch::Contains;
using crashkit::admin::testing::slurp;
using crashkit::admin::testing::spit;
namespace fs = std::filesystem;

namespace {

struct Root : crashkit::admin::testing::TempRoot {
  Root() : TempRoot("crashkit-raw") { fs::create_directories(p / "dev"); }
};

conf::Config raw_config() {
  auto parse = conf::parse_config_text("raw /dev/vdc\npath /var/crash\n");
  REQUIRE(parse.ok());
  return parse.config;
}

} // namespace

TEST_CASE("raw salvage: a flattened dump on the device becomes PATH/STAMP/vmcore", "[admin][raw]") {
  Root r;
  const std::string payload_a(5000, 'A'), payload_b = "tail bytes";
  {
    // The device: a flattened stream (written out of order, as writers do), then junk.
    UniqueFd fd(::open((r.p / "dev/vdc").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    REQUIRE(fd.valid());
    capture::FlatSink sink(fd.get(), "vdc");
    REQUIRE(sink.write_at(8192, payload_b.data(), payload_b.size()));
    REQUIRE(sink.write_at(0, payload_a.data(), payload_a.size()));
    REQUIRE(sink.finish());
    const std::string junk(1000, 'J');
    REQUIRE(::write(fd.get(), junk.data(), junk.size()) == 1000);
  }
  auto out = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-110000");
  REQUIRE(out);
  CHECK(out->found);
  CHECK(out->vmcore == (r.p / "var/crash/2026-11-27-110000/vmcore").string());
  const std::string v = slurp(out->vmcore);
  REQUIRE(v.size() == 8192 + payload_b.size());
  CHECK(v.substr(0, 5000) == payload_a);
  CHECK(v.substr(8192) == payload_b);
  const auto mode = fs::status(out->vmcore).permissions() & fs::perms::all;
  CHECK(mode == (fs::perms::owner_read | fs::perms::owner_write));
  // The header is cleared only after the copy: a second start finds nothing.
  CHECK(slurp(r.p / "dev/vdc").substr(0, 12) == std::string(12, '\0'));
  auto again = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-120000");
  REQUIRE(again);
  CHECK_FALSE(again->found);
}

namespace {

std::uint64_t be64(const std::string& s, std::uint64_t off) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = v << 8 | static_cast<std::uint8_t>(s.at(off + static_cast<std::uint64_t>(i)));
  return v;
}

struct Record {
  std::uint64_t pos, offset, size;
};

// The records of a flattened stream, read by its documented layout (4096-byte header, then
// {be64 offset, be64 size, bytes}), independently of the library's reassembly.
std::vector<Record> records(const std::string& s) {
  std::vector<Record> out;
  for (std::uint64_t pos = 4096; pos + 16 <= s.size();) {
    const std::uint64_t off = be64(s, pos), size = be64(s, pos + 8);
    if (off == ~0ULL)
      break;
    out.push_back({pos, off, size});
    pos += 16 + size;
  }
  return out;
}

std::vector<std::string> stamp_dirs(const fs::path& path) {
  std::vector<std::string> out;
  if (fs::exists(path))
    for (const auto& e : fs::directory_iterator(path))
      out.push_back(e.path().filename().string());
  return out;
}

} // namespace

TEST_CASE("raw salvage: a stream cut short is saved once as an incomplete dump crash opens",
          "[admin][raw]") {
  Root r;
  const std::string& stream = admin::testing::samples().stream;
  const auto recs = records(stream);
  REQUIRE(recs.size() > 10);
  // The dump's layout, from its header record (offset 0): bitmaps, descriptors, page data.
  REQUIRE(recs[0].offset == 0);
  const std::string h = stream.substr(recs[0].pos + 16, recs[0].size);
  auto le32 = [&](std::uint64_t off) {
    std::uint32_t v = 0;
    std::memcpy(&v, h.data() + off, 4);
    return std::uint64_t{v};
  };
  const std::uint64_t block = le32(428), bitmap1 = (1 + le32(432)) * block;
  const std::uint64_t desc = bitmap1 + le32(436) * block;
  // The same capture written as a file: the stream reassembles to it byte for byte.
  auto whole = admin::check_dump(admin::testing::samples().kdump);
  REQUIRE(whole);
  const std::uint64_t data_start = desc + whole->descriptors * 24;
  auto cut_inside = [&](auto&& pick) {
    for (const auto& rec : recs)
      if (pick(rec))
        return rec.pos + 16 + rec.size / 2;
    FAIL("no such record");
    return std::uint64_t{0};
  };
  struct Cut {
    const char* where;
    std::uint64_t at;
  };
  // Payloads go out before the descriptors pointing at them, so a cut in the page data leaves
  // whole records of both.
  const std::uint64_t mid_data = cut_inside(
      [&](const Record& rec) { return rec.offset > desc && rec.pos > stream.size() / 2; });
  const std::vector<Cut> cuts = {
      {"in the bitmaps",
       cut_inside([&](const Record& rec) { return rec.offset >= bitmap1 && rec.offset < desc; })},
      {"in the descriptors", cut_inside([&](const Record& rec) {
         return rec.offset >= desc && rec.offset < data_start && rec.size >= 48;
       })},
      {"in the page data", mid_data},
      {"before the end marker", stream.size() - 16},
  };
  for (const auto& cut : cuts) {
    CAPTURE(cut.where, cut.at);
    fs::remove_all(r.p / "var/crash");
    spit(r.p / "dev/vdc", stream.substr(0, cut.at) + std::string(8192, '\0'));
    auto out = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-110000");
    if (!out)
      FAIL(out.error().message());
    CHECK(out->found);
    CHECK_FALSE(out->complete);
    CHECK(out->vmcore == (r.p / "var/crash/2026-11-27-110000/vmcore.incomplete").string());
    CHECK_THAT(out->cut, Contains("vdc"));
    // The reader opens it as an incomplete dump: headers, bitmaps, descriptors all within it.
    auto check = admin::check_dump(out->vmcore, UINT64_MAX);
    if (!check)
      FAIL(check.error().message());
    CHECK(check->incomplete);
    if (cut.at >= mid_data)
      CHECK(check->sampled > 0);
    CHECK_THAT(check->summary(), Contains("kdump (marked incomplete): header ok"));
    // Saved once: the stream's signature is gone, a second start copies nothing.
    CHECK(slurp(r.p / "dev/vdc").substr(0, 4096) == std::string(4096, '\0'));
    auto again = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-120000");
    REQUIRE(again);
    CHECK_FALSE(again->found);
    CHECK(stamp_dirs(r.p / "var/crash") == std::vector<std::string>{"2026-11-27-110000"});
  }
}

TEST_CASE("raw salvage: a stream cut in its headers leaves nothing to save, and is cleared",
          "[admin][raw]") {
  Root r;
  const std::string& stream = admin::testing::samples().stream;
  // Inside the 4096-byte stream header, and inside the dump's own header record.
  for (std::uint64_t at : {std::uint64_t{2000}, std::uint64_t{4096 + 16 + 100}}) {
    CAPTURE(at);
    fs::remove_all(r.p / "var/crash");
    spit(r.p / "dev/vdc", stream.substr(0, at));
    auto out = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-110000");
    if (!out)
      FAIL(out.error().message());
    CHECK(out->found);
    CHECK(out->vmcore.empty());
    CHECK_THAT(out->cut, Contains("stream ends"));
    CHECK(stamp_dirs(r.p / "var/crash").empty());
    CHECK(slurp(r.p / "dev/vdc").substr(0, 12) == std::string(12, '\0'));
    auto again = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-120000");
    REQUIRE(again);
    CHECK_FALSE(again->found);
  }
}

TEST_CASE("raw salvage: other targets and blank devices are left alone", "[admin][raw]") {
  Root r;
  std::ofstream(r.p / "dev/vdc") << std::string(4096, '\0');
  auto out = admin::salvage_raw_dump(raw_config(), r.p.string(), "x");
  REQUIRE(out);
  CHECK_FALSE(out->found);
  auto fsconf = conf::parse_config_text("path /var/crash\n").config;
  auto none = admin::salvage_raw_dump(fsconf, r.p.string(), "x");
  REQUIRE(none);
  CHECK_FALSE(none->found);
}

TEST_CASE("raw salvage: a later stream cut at a record boundary does not run on into the old one",
          "[admin][raw]") {
  Root r;
  const std::string& stream = admin::testing::samples().stream;
  const auto recs = records(stream);
  REQUIRE(recs.size() > 10);
  spit(r.p / "dev/vdc", stream + std::string(8192, '\0'));
  auto first = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-110000");
  REQUIRE(first);
  REQUIRE(first->complete);
  CHECK(first->warning.empty());
  // Nothing of the saved stream is left on the device.
  const std::string after = slurp(r.p / "dev/vdc");
  CHECK(after.size() == stream.size() + 8192);
  CHECK(after.find_first_not_of('\0') == std::string::npos);
  // The next crash writes the same layout and dies between two records: the device is
  // overwritten in place (a partition keeps its size).
  const std::uint64_t cut = recs[recs.size() / 2].pos;
  {
    UniqueFd fd(::open((r.p / "dev/vdc").c_str(), O_WRONLY | O_CLOEXEC));
    REQUIRE(fd.valid());
    REQUIRE(::pwrite(fd.get(), stream.data(), cut, 0) == static_cast<ssize_t>(cut));
  }
  auto second = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-28-080000");
  if (!second)
    FAIL(second.error().message());
  CHECK_FALSE(second->complete);
  CHECK_THAT(second->cut, Contains("bad record header") && Contains("offset 0x"));
  auto check = admin::check_dump(second->vmcore);
  if (!check)
    FAIL(check.error().message());
  CHECK(check->incomplete);
}

// Run by hand as root on a scratch block device of 16 MiB or more (a loop device will do),
// which it overwrites:
//   CRASHKIT_TEST_BLOCKDEV=/dev/loop0 admin_tests '[blockdev]'
TEST_CASE("raw salvage: on a block device the saved stream is zeroed with BLKZEROOUT",
          "[.][admin][raw][blockdev]") {
  const char* dev = std::getenv("CRASHKIT_TEST_BLOCKDEV");
  REQUIRE(dev != nullptr);
  Root r;
  fs::create_symlink(dev, r.p / "dev/vdc");
  const std::string& stream = admin::testing::samples().stream;
  {
    UniqueFd fd(::open(dev, O_WRONLY | O_CLOEXEC));
    REQUIRE(fd.valid());
    REQUIRE(::pwrite(fd.get(), stream.data(), stream.size(), 0) ==
            static_cast<ssize_t>(stream.size()));
    REQUIRE(::fsync(fd.get()) == 0);
  }
  auto out = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-110000");
  if (!out)
    FAIL(out.error().message());
  CHECK(out->complete);
  CHECK(out->warning.empty());
  std::string back(stream.size(), 'x');
  UniqueFd fd(::open(dev, O_RDONLY | O_CLOEXEC));
  REQUIRE(::pread(fd.get(), back.data(), back.size(), 0) == static_cast<ssize_t>(back.size()));
  CHECK(back.find_first_not_of('\0') == std::string::npos);
}
