#include <catch2/catch.hpp>

#include "crashkit/conf/core_collector.hpp"

using namespace crashkit::conf;
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
  CHECK(c.compression == Compression::lzo);
  CHECK(c.message_level == 7u);
  CHECK(c.dump_level == 31u);
  CHECK(c.unmapped.empty());
  CHECK(capture_arguments(c) == V{"-d", "31", "--compress", "lzo", "--message-level", "7"});
}

TEST_CASE("core_collector: option spellings", "[collector]") {
  CHECK(ok({"/usr/sbin/makedumpfile", "-c", "-d", "17"}).compression == Compression::zlib);
  CHECK(ok({"makedumpfile", "-p"}).compression == Compression::snappy);
  CHECK(ok({"makedumpfile", "-z"}).compression == Compression::zstd);
  auto clustered = ok({"makedumpfile", "-ld31"});
  CHECK(clustered.compression == Compression::lzo);
  CHECK(clustered.dump_level == 31u);
  CHECK(ok({"makedumpfile", "-d1"}).dump_level == 1u);
  CHECK(ok({"makedumpfile", "--dump-level=3"}).dump_level == 3u);
  CHECK(ok({"makedumpfile", "-E"}).format == DumpFormat::elf);
  CHECK(ok({"makedumpfile", "-F"}).format == DumpFormat::flat);
  CHECK(ok({"makedumpfile", "--message-level=1"}).message_level == 1u);
  CHECK(ok({"makedumpfile", "--num-threads", "4"}).threads == 4u);
  CHECK(ok({"makedumpfile", "--non-mmap"}).non_mmap);
  CHECK(ok({"makedumpfile", "-f"}).unmapped.empty());
  auto own = ok({"crashkit-capture", "--compress", "none", "--format", "elf", "--threads=2"});
  CHECK(own.program == CollectorProgram::crashkit_capture);
  CHECK(own.compression == Compression::none);
  CHECK(own.format == DumpFormat::elf);
  CHECK(own.threads == 2u);
  CHECK(capture_arguments(own) == V{"--compress", "none", "--format", "elf", "--num-threads", "2"});
  CHECK(default_core_collector().dump_level == 31u);
  CHECK(ok(default_core_collector().argv) == default_core_collector());
}

TEST_CASE("core_collector: options without an equivalent are listed", "[collector]") {
  auto c = ok({"makedumpfile", "-x", "/usr/lib/debug/vmlinux", "--split", "-D", "-d", "31",
               "--cyclic-buffer", "1024", "-ib"});
  CHECK(c.unmapped ==
        V{"-x /usr/lib/debug/vmlinux", "--split", "-D", "--cyclic-buffer=1024", "-i b"});
  CHECK(c.dump_level == 31u);
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
