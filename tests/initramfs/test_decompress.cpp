#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <zstd.h>

#include <memory>

#include "crashkit/initramfs/decompress.hpp"

using namespace crashkit::initramfs;
using crashkit::ErrorCategory;

namespace {

std::string sample_bytes() {
  std::string s(300000, '\0');
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<char>((i * 131 + i / 1000) & 0xff);
  return s;
}

std::string zstd(const std::string& plain) {
  std::string z(ZSTD_compressBound(plain.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), plain.data(), plain.size(), 3));
  return z;
}

/// `plain` as one raw stream through libarchive's writer with the filter `add_filter`.
std::string libarchive_compressed(const std::string& plain, int (*add_filter)(archive*)) {
  std::unique_ptr<archive, decltype(&archive_write_free)> w(archive_write_new(),
                                                            archive_write_free);
  archive* a = w.get();
  REQUIRE(add_filter(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_format_raw(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK);
  std::string out(plain.size() + 65536, '\0');
  std::size_t used = 0;
  REQUIRE(archive_write_open_memory(a, out.data(), out.size(), &used) == ARCHIVE_OK);
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                  archive_entry_free);
  archive_entry_set_filetype(e.get(), AE_IFREG);
  REQUIRE(archive_write_header(a, e.get()) == ARCHIVE_OK);
  REQUIRE(archive_write_data(a, plain.data(), plain.size()) ==
          static_cast<la_ssize_t>(plain.size()));
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  out.resize(used);
  return out;
}

} // namespace

TEST_CASE("decompress: zstd, xz and gzip streams come back whole", "[decompress]") {
  const std::string plain = sample_bytes();
  auto z = decompress_whole(zstd(plain), "m.ko.zst");
  REQUIRE(z);
  CHECK(*z == plain);
  const std::string xz = libarchive_compressed(plain, archive_write_add_filter_xz);
  CHECK(xz.compare(0, 6,
                   "\xfd"
                   "7zXZ\0",
                   6) == 0);
  auto x = decompress_whole(xz, "m.ko.xz");
  REQUIRE(x);
  CHECK(*x == plain);
  auto g = decompress_whole(libarchive_compressed(plain, archive_write_add_filter_gzip), "m.ko.gz");
  REQUIRE(g);
  CHECK(*g == plain);
}

TEST_CASE("decompress: bytes no filter knows come back as they are", "[decompress]") {
  auto r = decompress_whole(std::string("plain bytes"), "x");
  REQUIRE(r);
  CHECK(*r == "plain bytes");
}

TEST_CASE("decompress: a cut stream is a data error naming the input", "[decompress]") {
  const std::string z = zstd(sample_bytes());
  auto r = decompress_whole(std::string_view(z).substr(0, z.size() / 2), "/lib/modules/x.ko.zst");
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::data);
  CHECK(r.error().path() == "/lib/modules/x.ko.zst");
  CHECK_THAT(r.error().message(), Catch::StartsWith("/lib/modules/x.ko.zst: cannot decompress: "));
}
