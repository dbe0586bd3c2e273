#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crashkit/admin/raw_salvage.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "temp_root.hpp"

using namespace crashkit;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

struct Root : crashkit::admin::testing::TempRoot {
  Root() : TempRoot("crashkit-raw") { fs::create_directories(p / "dev"); }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

conf::Config raw_config() {
  auto parse = conf::parse_config_text("raw /dev/vdc\npath /var/crash\n");
  REQUIRE(parse.ok());
  return parse.config;
}

}  // namespace

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

TEST_CASE("raw salvage: a truncated stream keeps the device as it was", "[admin][raw]") {
  Root r;
  {
    UniqueFd fd(::open((r.p / "dev/vdc").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    capture::FlatSink sink(fd.get(), "vdc");
    const std::string data(3000, 'x');
    REQUIRE(sink.write_at(0, data.data(), data.size()));
    // no finish(): the capture kernel died mid-stream
  }
  const std::string before = slurp(r.p / "dev/vdc");
  auto out = admin::salvage_raw_dump(raw_config(), r.p.string(), "2026-11-27-110000");
  REQUIRE_FALSE(out);
  CHECK(slurp(r.p / "dev/vdc") == before);
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
