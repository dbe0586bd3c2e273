#include <catch2/catch.hpp>

#include "crashkit/conf/core_collector.hpp"

using namespace crashkit::conf;
namespace cap = crashkit::capture;
using V = std::vector<std::string>;

namespace {
CoreCollector ok(const V& argv) {
  auto c = parse_core_collector(argv);
  if (!c)
    FAIL(c.error().what());
  return *c;
}
} // namespace

TEST_CASE("core_collector: Fedora's default makedumpfile line maps fully", "[collector]") {
  auto c = ok({"makedumpfile", "-l", "--message-level", "7", "-d", "31"});
  CHECK(c.program == CollectorProgram::makedumpfile);
  CHECK(c.settings.compression == cap::Compression::lzo);
  CHECK(c.settings.message_level == 7);
  CHECK(c.settings.dump_levels == std::vector<int>{31});
  CHECK(c.unmapped.empty());
  CHECK(capture_arguments(c) == V{"-d", "31", "--compress", "lzo", "--message-level", "7"});
}

TEST_CASE("core_collector: option spellings", "[collector]") {
  CHECK(ok({"/usr/sbin/makedumpfile", "-c", "-d", "17"}).settings.compression ==
        cap::Compression::zlib);
  CHECK(ok({"makedumpfile", "-p"}).settings.compression == cap::Compression::snappy);
  CHECK(ok({"makedumpfile", "-z"}).settings.compression == cap::Compression::zstd);
  auto clustered = ok({"makedumpfile", "-ld31"});
  CHECK(clustered.settings.compression == cap::Compression::lzo);
  CHECK(clustered.settings.dump_levels == std::vector<int>{31});
  CHECK(ok({"makedumpfile", "-d1"}).settings.dump_levels == std::vector<int>{1});
  CHECK(ok({"makedumpfile", "--dump-level=3"}).settings.dump_levels == std::vector<int>{3});
  CHECK(ok({"makedumpfile", "-E"}).settings.format == cap::OutputFormat::elf);
  CHECK(ok({"makedumpfile", "-F"}).settings.format == cap::OutputFormat::flat);
  CHECK(ok({"makedumpfile", "--message-level=1"}).settings.message_level == 1);
  CHECK(ok({"makedumpfile", "--num-threads", "4"}).settings.threads == 4u);
  CHECK(ok({"makedumpfile", "--non-mmap"}).settings.read_mode == cap::ReadMode::pread);
  CHECK(ok({"makedumpfile", "-f"}).unmapped.empty());
  auto own = ok({"crashkit-capture", "--compress", "none", "--format", "elf", "--threads=2"});
  CHECK(own.program == CollectorProgram::crashkit_capture);
  CHECK(own.settings.compression == cap::Compression::none);
  CHECK(own.settings.format == cap::OutputFormat::elf);
  CHECK(own.settings.threads == 2u);
  CHECK(capture_arguments(own) == V{"--compress", "none", "--format", "elf", "--num-threads", "2"});
  CHECK(default_core_collector().settings.dump_levels == std::vector<int>{31});
  CHECK(ok(default_core_collector().argv) == default_core_collector());
}

TEST_CASE("core_collector: options without an equivalent are listed", "[collector]") {
  auto c = ok({"makedumpfile", "-x", "/usr/lib/debug/vmlinux", "--split", "-D", "-d", "31",
               "--cyclic-buffer", "1024", "-ib"});
  CHECK(c.unmapped ==
        V{"-x /usr/lib/debug/vmlinux", "--split", "-D", "--cyclic-buffer=1024", "-i b"});
  CHECK(c.settings.dump_levels == std::vector<int>{31});
}

TEST_CASE("core_collector: errors", "[collector]") {
  struct Row {
    V argv;
    const char* message;
    crashkit::ErrorCategory category;
  };
  using C = crashkit::ErrorCategory;
  const Row rows[] = {
      {{}, "core_collector needs a command", C::data},
      {{"cp"}, "core_collector cp is not supported", C::unsupported},
      {{"/bin/scp"}, "core_collector scp is not supported", C::unsupported},
      {{"makedumpfile", "-d", "32"}, "dump level '32' is not a number 0-31", C::data},
      {{"makedumpfile", "-d", "x"}, "dump level 'x' is not a number 0-31", C::data},
      {{"makedumpfile", "-d"}, "-d needs a value", C::data},
      {{"makedumpfile", "--message-level"}, "--message-level needs a value", C::data},
      {{"makedumpfile", "--num-threads=many"}, "--num-threads needs a number, not 'many'", C::data},
      {{"makedumpfile", "--non-mmap=1"}, "--non-mmap takes no value", C::data},
      {{"makedumpfile", "-l", "/proc/vmcore", "/var/crash/vmcore"},
       "unexpected argument '/proc/vmcore'",
       C::data},
      {{"crashkit-capture", "--compress", "gzip"},
       "--compress takes zstd|zlib|lzo|snappy|none",
       C::data},
      {{"crashkit-capture", "--format", "raw"}, "--format takes kdump|elf|flat", C::data},
  };
  for (const auto& r : rows) {
    CAPTURE(r.message);
    auto c = parse_core_collector(r.argv);
    REQUIRE_FALSE(c);
    CHECK(c.error().category() == r.category);
    CHECK_THAT(c.error().what(), Catch::Contains(r.message));
  }
}

TEST_CASE("core_collector: every crashkit-capture option that shapes the dump", "[collector]") {
  auto c = ok({"crashkit-capture", "-d", "11,31", "--no-dedup", "--zstd-level", "3", "--read-mode",
               "mmap", "--low-memory", "--force"});
  CHECK(c.unmapped.empty());
  CHECK(c.settings.dump_levels == std::vector<int>{11, 31});
  CHECK(c.settings.no_dedup);
  CHECK(c.settings.zstd_level == 3);
  CHECK(c.settings.read_mode == cap::ReadMode::mmap);
  CHECK(c.settings.low_memory);
  CHECK(capture_arguments(c) ==
        V{"-d", "11,31", "--zstd-level", "3", "--read-mode", "mmap", "--no-dedup", "--low-memory"});
  // makedumpfile has none of crashkit-capture's long options, and only the command line
  // chooses what is written where.
  CHECK(ok({"makedumpfile", "--no-dedup", "--zstd-level", "3", "-d", "31"}).unmapped ==
        V{"--no-dedup", "--zstd-level=3"});
  CHECK(ok({"crashkit-capture", "-R", "--dump-dmesg", "--json", "--progress"}).unmapped ==
        V{"-R", "--dump-dmesg", "--json", "--progress"});
}
