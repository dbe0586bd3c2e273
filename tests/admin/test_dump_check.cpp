// The admin side's dump reader on real dumps (a synthetic core captured by run_capture) and on
// copies damaged one structure at a time: each damage is judged bad with a message naming the
// file offset where the reader found it.

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "crashkit/admin/dump_check.hpp"
#include "sample_dump.hpp"
#include "temp_root.hpp"

using namespace crashkit;
using admin::testing::samples;
using admin::testing::slurp;
using admin::testing::spit;
using admin::testing::TempRoot;
using Catch::Contains;

namespace {

std::uint64_t le(const std::string& b, std::uint64_t off, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8 | static_cast<std::uint8_t>(b.at(off + static_cast<std::uint64_t>(i)));
  return v;
}
void put_le(std::string& b, std::uint64_t off, int bytes, std::uint64_t v) {
  for (int i = 0; i < bytes; ++i)
    b.at(off + static_cast<std::uint64_t>(i)) = static_cast<char>(v >> (8 * i));
}
std::string at(std::uint64_t off) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "at offset 0x%llx", static_cast<unsigned long long>(off));
  return buf;
}

// Where things are in the sample kdump, read from its header by the documented offsets
// (dump-formats-and-filtering.md 1.2): block_size at 428, sub_hdr_size 432, bitmap_blocks 436.
struct Where {
  std::uint64_t block, bitmap1, bitmap_len, desc;
  explicit Where(const std::string& b)
      : block(le(b, 428, 4)), bitmap1((1 + le(b, 432, 4)) * block),
        bitmap_len(le(b, 436, 4) / 2 * block), desc(bitmap1 + 2 * bitmap_len) {}
  std::uint64_t desc_at(std::uint64_t i) const { return desc + i * 24; }
};

} // namespace

TEST_CASE("dump check: a good kdump says what was checked", "[admin][dumpcheck]") {
  auto c = admin::check_dump(samples().kdump);
  if (!c)
    FAIL(c.error().message());
  CHECK(c->format == admin::DumpCheck::Format::kdump);
  CHECK_FALSE(c->incomplete);
  CHECK(c->descriptors > 1000);
  CHECK(c->sampled == 64);
  CHECK(c->summary() == "kdump: header ok, 2 bitmaps ok, " + std::to_string(c->descriptors) +
                            " descriptors within the file, 64 sampled pages decompressed");
  // Every payload decompresses when all are sampled.
  auto all = admin::check_dump(samples().kdump, UINT64_MAX);
  REQUIRE(all);
  CHECK(all->sampled + all->not_written == all->descriptors);
}

TEST_CASE("dump check: a FIFO or a link named vmcore is refused without blocking",
          "[admin][dumpcheck]") {
  TempRoot t;
  const std::string fifo = (t.p / "vmcore").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto c = admin::check_dump(fifo); // opening a FIFO with no writer blocked here
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message(), Contains(fifo) && Contains("not a regular file"));
  REQUIRE_FALSE(admin::mark_kdump_incomplete(fifo));
  const std::string link = (t.p / "vmcore.incomplete").string();
  std::filesystem::create_symlink(samples().kdump, link);
  auto l = admin::check_dump(link);
  REQUIRE_FALSE(l);
  CHECK_THAT(l.error().message(), Contains(link));
}

TEST_CASE("dump check: a good ELF dump", "[admin][dumpcheck]") {
  auto c = admin::check_dump(samples().elf);
  if (!c)
    FAIL(c.error().message());
  CHECK(c->format == admin::DumpCheck::Format::elf);
  CHECK(c->segments >= 2);
  CHECK(c->summary() ==
        "ELF: header ok, " + std::to_string(c->segments) + " program headers within the file");
}

TEST_CASE("dump check: damaged kdumps are judged bad, naming the offset", "[admin][dumpcheck]") {
  const std::string good = slurp(samples().kdump);
  const Where w(good);
  const std::string bad_path = (samples().dir.p / "bad").string();
  auto judge = [&](const std::string& bytes, std::uint64_t sample = 64) {
    spit(bad_path, bytes);
    return admin::check_dump(bad_path, sample);
  };
  SECTION("a descriptor offset past the end of the file") {
    std::string b = good;
    put_le(b, w.desc_at(10), 8, b.size() + 100);
    auto c = judge(b);
    REQUIRE_FALSE(c);
    CHECK(c.error().category() == ErrorCategory::data);
    CHECK_THAT(c.error().message(), Contains(bad_path) && Contains("descriptor 10 (pfn 0x") &&
                                        Contains("past the end of the file") &&
                                        Contains(at(w.desc_at(10))));
  }
  SECTION("a descriptor pointing into the descriptor table") {
    std::string b = good;
    put_le(b, w.desc_at(3), 8, w.desc);
    auto c = judge(b);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message(), Contains("descriptor 3") && Contains("not in the page data") &&
                                        Contains(at(w.desc_at(3))));
  }
  SECTION("a truncated file: cut in the page data, the descriptors, the bitmaps") {
    auto cut_data = judge(good.substr(0, good.size() - 5000));
    REQUIRE_FALSE(cut_data);
    CHECK_THAT(cut_data.error().message(), Contains("ends past the end of the file"));
    auto cut_desc = judge(good.substr(0, w.desc + 24 * 7 + 5));
    REQUIRE_FALSE(cut_desc);
    CHECK_THAT(cut_desc.error().message(),
               Contains("the descriptor table") && Contains(at(w.desc)));
    auto cut_bitmap = judge(good.substr(0, w.bitmap1 + 10));
    REQUIRE_FALSE(cut_bitmap);
    CHECK_THAT(cut_bitmap.error().message(), Contains("the bitmaps") && Contains(at(w.bitmap1)));
    auto cut_header = judge(good.substr(0, 300));
    REQUIRE_FALSE(cut_header);
    CHECK_THAT(cut_header.error().message(),
               Contains("ends inside the kdump header (300 of 464 bytes)") && Contains(at(0)));
  }
  SECTION("a compressed page of garbage") {
    // The first descriptor with a compressed payload; all payloads are sampled.
    std::string b = good;
    std::uint64_t i = 0, off = 0;
    for (;; ++i) {
      REQUIRE(w.desc_at(i) + 24 <= good.size());
      if (le(good, w.desc_at(i) + 12, 4) != 0) {
        off = le(good, w.desc_at(i), 8);
        break;
      }
    }
    const auto size = le(good, w.desc_at(i) + 8, 4);
    for (std::uint64_t k = 0; k < size; ++k)
      b[off + k] = static_cast<char>(0x5a ^ k);
    auto c = judge(b, UINT64_MAX);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message(), Contains("descriptor " + std::to_string(i)) &&
                                        Contains("does not decompress") && Contains(at(off)));
  }
  SECTION("bitmap sizes that do not fit the header or the file") {
    std::string odd = good;
    put_le(odd, 436, 4, 3);
    auto c1 = judge(odd);
    REQUIRE_FALSE(c1);
    CHECK_THAT(c1.error().message(),
               Contains("bitmap_blocks 3 is not two bitmaps") && Contains(at(436)));
    std::string big = good;
    put_le(big, 436, 4, 2 * (good.size() / w.block + 8));
    auto c2 = judge(big);
    REQUIRE_FALSE(c2);
    CHECK_THAT(c2.error().message(), Contains("do not fit max_mapnr") && Contains(at(436)));
    std::string past = good; // consistent with max_mapnr, but the file ends first
    put_le(past, w.block + 96, 8, (good.size() / w.block + 8) * w.block * 8);
    put_le(past, 436, 4, 2 * (good.size() / w.block + 8));
    auto c4 = judge(past);
    REQUIRE_FALSE(c4);
    CHECK_THAT(c4.error().message(), Contains("the bitmaps") &&
                                         Contains("past the end of the file") &&
                                         Contains(at(w.bitmap1)));
    std::string mapnr = good; // max_mapnr_64 in the sub-header (B + 96)
    put_le(mapnr, w.block + 96, 8, w.bitmap_len * 8 + 1);
    auto c3 = judge(mapnr);
    REQUIRE_FALSE(c3);
    CHECK_THAT(c3.error().message(),
               Contains("do not fit max_mapnr " + std::to_string(w.bitmap_len * 8 + 1)) &&
                   Contains(at(436)));
  }
  SECTION("a dumpable page that is not RAM") {
    std::string b = good;
    std::uint64_t byte = 0;
    while (static_cast<std::uint8_t>(b.at(w.bitmap1 + w.bitmap_len + byte)) == 0)
      ++byte;
    b[w.bitmap1 + byte] = 0;
    auto c = judge(b);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message(),
               Contains("bitmap 2 marks pfn") && Contains(at(w.bitmap1 + w.bitmap_len + byte)));
  }
  SECTION("not a dump, and a block size that is no page size") {
    auto c = judge(std::string(8192, 'x'));
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message(), Contains("no \"KDUMP   \" signature"));
    std::string b = good;
    put_le(b, 428, 4, 3000);
    auto d = judge(b);
    REQUIRE_FALSE(d);
    CHECK_THAT(d.error().message(), Contains("block_size 3000") && Contains(at(428)));
  }
}

TEST_CASE("dump check: damaged ELF dumps", "[admin][dumpcheck]") {
  const std::string good = slurp(samples().elf);
  const std::string bad_path = (samples().dir.p / "bad.elf").string();
  const std::uint64_t phoff = le(good, 32, 8);
  // The last program header's p_filesz (at +32) far past the end of the file.
  const std::uint64_t last = phoff + (le(good, 56, 2) - 1) * 56;
  std::string b = good;
  put_le(b, last + 32, 8, good.size());
  spit(bad_path, b);
  auto c = admin::check_dump(bad_path);
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message(), Contains("past the end of the file") && Contains(at(last)));
  spit(bad_path, good.substr(0, static_cast<std::size_t>(phoff + 20)));
  auto t = admin::check_dump(bad_path);
  REQUIRE_FALSE(t);
  CHECK(t.error().category() == ErrorCategory::data);
}
