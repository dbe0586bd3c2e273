// FileSink in a directory someone else may have prepared: links at the output names are never
// written through.

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "crashkit/base/io.hpp"
#include "crashkit/capture/output_sink.hpp"

using crashkit::capture::FileSink;

namespace {

std::string slurp(const std::string& path) {
  auto text = crashkit::read_whole_file(path);
  REQUIRE(text);
  return *text;
}

struct Scratch {
  std::string dir;
  Scratch() {
    char tmpl[] = "/tmp/ck-sink-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    dir = tmpl;
  }
  ~Scratch() { (void)std::system(("rm -rf '" + dir + "'").c_str()); }
};

} // namespace

TEST_CASE("FileSink never writes through a link at OUTPUT.incomplete", "[sink]") {
  Scratch s;
  const std::string victim = s.dir + "/victim";
  std::ofstream(victim) << "precious";
  REQUIRE(::symlink(victim.c_str(), (s.dir + "/vmcore.incomplete").c_str()) == 0);
  const bool direct = GENERATE(false, true);
  auto sink = FileSink::create(s.dir + "/vmcore", false, direct);
  REQUIRE(sink);
  const std::string data(8192, 'd');
  REQUIRE((*sink)->write_at(0, data.data(), data.size()));
  REQUIRE((*sink)->finish());
  CHECK(slurp(victim) == "precious");
  struct stat st {};
  REQUIRE(::lstat((s.dir + "/vmcore").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(slurp(s.dir + "/vmcore") == data);
}

TEST_CASE("FileSink treats a dangling link at OUTPUT as an existing output", "[sink]") {
  Scratch s;
  REQUIRE(::symlink((s.dir + "/nowhere").c_str(), (s.dir + "/vmcore").c_str()) == 0);
  auto sink = FileSink::create(s.dir + "/vmcore", false);
  REQUIRE_FALSE(sink);
  CHECK(sink.error().message().find("output exists") != std::string::npos);
}
