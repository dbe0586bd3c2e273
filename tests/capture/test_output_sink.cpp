// FileSink in a directory someone else may have prepared: links at the output names are never
// written through.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <string>

#include "crashkit/base/io.hpp"
#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/kdump_format.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"

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

/// A FileSink whose device fails to make the data durable (EIO from fdatasync).
class FailingSyncSink final : public crashkit::capture::OutputSink {
public:
  explicit FailingSyncSink(std::unique_ptr<FileSink> file) : file_(std::move(file)) {}
  crashkit::Status write_at(std::uint64_t off, const void* data, std::size_t len) override {
    return file_->write_at(off, data, len);
  }
  crashkit::Status finish() override { return file_->finish(); }
  const std::string& name() const override { return file_->name(); }
  int file_fd() const override { return file_->file_fd(); }
  crashkit::Status flush_staged() override { return file_->flush_staged(); }
  crashkit::Status sync_data() override {
    ++syncs;
    return crashkit::Error::from_errno(EIO, "fdatasync").with_path(name());
  }
  int syncs = 0;

private:
  std::unique_ptr<FileSink> file_;
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

TEST_CASE("a kdump whose data cannot be made durable stays marked incomplete", "[sink]") {
  Scratch s;
  crashkit::fixtures::VmcoreSpec spec;
  spec.ram = {{1, 0x9e}, {0x100, 0x1f00}};
  spec.sparse_file = true;
  auto b = crashkit::fixtures::VmcoreBuilder::create(spec);
  REQUIRE(b);
  REQUIRE(b->fill_mix(5));
  const std::string vmcore = s.dir + "/vmcore";
  REQUIRE(b->write(vmcore));

  auto file = FileSink::create(s.dir + "/dump", false);
  REQUIRE(file);
  FailingSyncSink sink(std::move(file).value());
  crashkit::capture::CaptureRequest req;
  req.vmcore = vmcore;
  req.threads = 1;
  auto r = crashkit::capture::run_capture(req, sink, {});
  REQUIRE_FALSE(r);
  CHECK(sink.syncs == 1);
  CHECK(r.error().sys_errno() == EIO);
  CHECK(r.error().message() == s.dir + "/dump.incomplete: fdatasync (Input/output error)");
  // The header written first says incomplete, and nothing rewrote it.
  crashkit::capture::kdump::DiskDumpHeader h{};
  const int fd = ::open((s.dir + "/dump.incomplete").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(::pread(fd, &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h));
  ::close(fd);
  CHECK((h.status & crashkit::capture::kdump::kStatusIncomplete) != 0);
}
