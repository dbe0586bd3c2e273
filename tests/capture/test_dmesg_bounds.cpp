// dmesg of logs larger than a built-in one (log_buf_len= up to 2 GiB): the capture kernel reads
// the ring a window at a time and only its newest 32 MiB (CONFIG_LOG_BUF_SHIFT <= 25), and
// hands the text over in bounded pieces, so a huge or hostile log_buf_len / prb size cannot
// take the memory the vmcore needs.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/capture/dmesg.hpp"

using crashkit::Error;
using crashkit::ErrorCategory;
using crashkit::Result;
using crashkit::Status;
using crashkit::capture::DmesgStats;
using crashkit::capture::extract_dmesg;
using crashkit::capture::KernelMemory;
using crashkit::capture::Vmcoreinfo;

namespace {

constexpr std::uint64_t kBase = 0xffff888000000000ULL; // VA kBase + x is physical x
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMiB = 1 << 20;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// 4 GiB of kernel memory that reads as zero except for the pages written; counts what is read.
class SparseMemory final : public KernelMemory {
public:
  Status read_phys(std::uint64_t paddr, void* buf, std::size_t len) override {
    if (paddr >= kSize || len > kSize - paddr)
      return Error(ErrorCategory::data, "sparse: read past memory at 0x" + hex(paddr));
    largest_read = std::max<std::uint64_t>(largest_read, len);
    bytes_read += len;
    auto* out = static_cast<std::uint8_t*>(buf);
    for (std::size_t done = 0; done < len;) {
      const std::uint64_t pa = paddr + done;
      const std::size_t n = std::min<std::size_t>(len - done, kPage - pa % kPage);
      auto it = pages_.find(pa / kPage);
      if (it == pages_.end())
        std::memset(out + done, 0, n);
      else
        std::memcpy(out + done, it->second.data() + pa % kPage, n);
      done += n;
    }
    return {};
  }
  Result<std::uint64_t> vtop(std::uint64_t vaddr) override {
    if (vaddr < kBase || vaddr - kBase >= kSize)
      return Error(ErrorCategory::data, "sparse: unmapped 0x" + hex(vaddr));
    return vaddr - kBase;
  }
  void put(std::uint64_t va, const void* p, std::size_t n) {
    const auto* in = static_cast<const std::uint8_t*>(p);
    for (std::size_t done = 0; done < n;) {
      const std::uint64_t pa = va - kBase + done;
      const std::size_t k = std::min<std::size_t>(n - done, kPage - pa % kPage);
      auto& page = pages_[pa / kPage];
      page.resize(kPage);
      std::memcpy(page.data() + pa % kPage, in + done, k);
      done += k;
    }
  }
  void put64(std::uint64_t va, std::uint64_t v) { put(va, &v, 8); }
  void put32(std::uint64_t va, std::uint32_t v) { put(va, &v, 4); }
  void put16(std::uint64_t va, std::uint16_t v) { put(va, &v, 2); }

  std::uint64_t largest_read = 0;
  std::uint64_t bytes_read = 0;

private:
  static constexpr std::uint64_t kSize = 4ULL << 30;
  std::map<std::uint64_t, std::vector<std::uint8_t>> pages_;
};

constexpr std::uint64_t kLogBufVar = kBase + 0x0;
constexpr std::uint64_t kLogBufLenVar = kBase + 0x8;
constexpr std::uint64_t kFirstIdxVar = kBase + 0x10;
constexpr std::uint64_t kNextIdxVar = kBase + 0x14;
constexpr std::uint64_t kLogEndVar = kBase + 0x18;
constexpr std::uint64_t kLogBuf = kBase + (1ULL << 30);

std::string vmcoreinfo_records() {
  return "OSRELEASE=5.4.0-1-amd64\nPAGESIZE=4096\n"
         "SYMBOL(log_buf)=" +
         hex(kLogBufVar) + "\nSYMBOL(log_buf_len)=" + hex(kLogBufLenVar) +
         "\nSYMBOL(log_first_idx)=" + hex(kFirstIdxVar) +
         "\nSYMBOL(log_next_idx)=" + hex(kNextIdxVar) +
         "\nSIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n"
         "OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\n";
}

// A 3.5-5.9 record at idx (header, text, padding to `len`); returns the next idx.
std::uint32_t put_record(SparseMemory& m, std::uint32_t idx, std::uint64_t ts,
                         const std::string& text, std::uint16_t len) {
  m.put64(kLogBuf + idx, ts);
  m.put16(kLogBuf + idx + 8, len);
  m.put16(kLogBuf + idx + 10, static_cast<std::uint16_t>(text.size()));
  m.put(kLogBuf + idx + 16, text.data(), text.size());
  return idx + len;
}

} // namespace

TEST_CASE("dmesg bounds: a 512 MiB log_buf with a short log is not read whole", "[dmesg][bounds]") {
  SparseMemory m;
  m.put64(kLogBufVar, kLogBuf);
  m.put32(kLogBufLenVar, 512 * kMiB); // log_buf_len=512M on the command line
  std::uint32_t next = put_record(m, 0, 1000, "first", 24);
  next = put_record(m, next, 2000, "second", 24);
  m.put32(kFirstIdxVar, 0);
  m.put32(kNextIdxVar, next);
  DmesgStats st;
  auto text = extract_dmesg(m, Vmcoreinfo::parse(vmcoreinfo_records()), st);
  REQUIRE(text);
  CHECK(*text == "[    0.000001] first\n[    0.000002] second\n");
  CHECK(m.largest_read <= 1 * kMiB);
  CHECK(m.bytes_read <= 1 * kMiB);
}

TEST_CASE("dmesg bounds: of a record log larger than 32 MiB only the newest 32 MiB are read",
          "[dmesg][bounds]") {
  SparseMemory m;
  m.put64(kLogBufVar, kLogBuf);
  m.put32(kLogBufLenVar, 64 * kMiB);
  // 40 MiB of 32 KiB records.
  constexpr std::uint16_t kLen = 32 << 10;
  constexpr unsigned kRecords = 40 * 32;
  std::uint32_t next = 0;
  for (unsigned i = 0; i < kRecords; ++i)
    next = put_record(m, next, 1000ULL * (i + 1), "record " + std::to_string(i), kLen);
  m.put32(kFirstIdxVar, 0);
  m.put32(kNextIdxVar, next);
  DmesgStats st;
  auto text = extract_dmesg(m, Vmcoreinfo::parse(vmcoreinfo_records()), st);
  REQUIRE(text);
  CHECK(text->find("] record 0\n") == std::string::npos);
  CHECK(text->find("] record " + std::to_string(kRecords - 1) + "\n") != std::string::npos);
  CHECK(st.records == 32 * 32);
  CHECK(st.skipped_old == kRecords - 32 * 32);
  CHECK_FALSE(st.walk_cut_short);
  CHECK(m.largest_read <= 1 * kMiB);
}

TEST_CASE("dmesg bounds: a wrapped plain log_buf of 128 MiB yields its newest 32 MiB",
          "[dmesg][bounds]") {
  SparseMemory m;
  const std::string vi =
      "OSRELEASE=2.6.32-5-amd64\nPAGESIZE=4096\nSYMBOL(log_buf)=" + hex(kLogBufVar) +
      "\nSYMBOL(log_buf_len)=" + hex(kLogBufLenVar) + "\nSYMBOL(log_end)=" + hex(kLogEndVar) + "\n";
  const std::uint64_t len = 128 * kMiB;
  m.put64(kLogBufVar, kLogBuf);
  m.put32(kLogBufLenVar, static_cast<std::uint32_t>(len));
  m.put32(kLogEndVar, static_cast<std::uint32_t>(len + 10)); // newest byte at index 9
  m.put(kLogBuf, "0123456789", 10);
  m.put(kLogBuf + len - 32 * kMiB + 10, "oldest kept", 11);
  DmesgStats st;
  auto text = extract_dmesg(m, Vmcoreinfo::parse(vi), st);
  REQUIRE(text);
  CHECK(text->size() == 32 * kMiB);
  CHECK(text->compare(0, 11, "oldest kept") == 0);
  CHECK(text->compare(text->size() - 10, 10, "0123456789") == 0);
  CHECK(st.skipped_old == len - 32 * kMiB);
  CHECK(m.largest_read <= 1 * kMiB);
}

namespace {

// 6.1's printk_ringbuffer (as in test_dmesg.cpp), placed for a 64 MiB text ring.
constexpr std::uint64_t kPrbVar = kBase + 0x0;
constexpr std::uint64_t kRb = kBase + 0x100;
constexpr std::uint64_t kDescs = kBase + (256 * kMiB);
constexpr std::uint64_t kInfos = kBase + (512 * kMiB);
constexpr std::uint64_t kData = kBase + (1024 * kMiB);

std::string vmcoreinfo_prb() {
  return "OSRELEASE=6.1.0-26-amd64\nPAGESIZE=4096\nSYMBOL(prb)=" + hex(kPrbVar) +
         "\nSIZE(printk_ringbuffer)=88\nOFFSET(printk_ringbuffer.desc_ring)=0\n"
         "OFFSET(printk_ringbuffer.text_data_ring)=48\nOFFSET(prb_desc_ring.count_bits)=0\n"
         "OFFSET(prb_desc_ring.descs)=8\nOFFSET(prb_desc_ring.infos)=16\n"
         "OFFSET(prb_desc_ring.head_id)=24\nOFFSET(prb_desc_ring.tail_id)=32\n"
         "SIZE(prb_desc)=24\nOFFSET(prb_desc.state_var)=0\nOFFSET(prb_desc.text_blk_lpos)=8\n"
         "OFFSET(prb_data_blk_lpos.begin)=0\nOFFSET(prb_data_blk_lpos.next)=8\n"
         "SIZE(printk_info)=88\nOFFSET(printk_info.ts_nsec)=8\nOFFSET(printk_info.text_len)=16\n"
         "OFFSET(prb_data_ring.size_bits)=0\nOFFSET(prb_data_ring.data)=8\n"
         "SIZE(atomic_long_t)=8\nOFFSET(atomic_long_t.counter)=0\n";
}

} // namespace

TEST_CASE("dmesg bounds: of a printk ring larger than 32 MiB only the newest 32 MiB are read",
          "[dmesg][bounds]") {
  SparseMemory m;
  constexpr unsigned kSizeBits = 26, kCountBits = 21; // log_buf_len=64M
  m.put64(kPrbVar, kRb);
  m.put32(kRb + 0, kCountBits);
  m.put64(kRb + 8, kDescs);
  m.put64(kRb + 16, kInfos);
  m.put32(kRb + 48, kSizeBits);
  m.put64(kRb + 56, kData);
  // 40 MiB of 1000-byte records, oldest first.
  constexpr unsigned kRecords = 40 * 1024;
  constexpr std::uint64_t kFirstId = 0x1000;
  std::uint64_t lpos = 0;
  std::string text(1000, 'x');
  for (unsigned i = 0; i < kRecords; ++i) {
    const std::uint64_t id = kFirstId + i;
    const std::string tag = "record " + std::to_string(i) + " ";
    std::memcpy(text.data(), tag.data(), tag.size());
    const std::uint64_t blk = 8 + ((text.size() + 7) & ~7ULL);
    m.put64(kData + lpos, id);
    m.put(kData + lpos + 8, text.data(), text.size());
    const std::uint64_t slot = id & ((1ULL << kCountBits) - 1);
    m.put64(kDescs + slot * 24, (2ULL << 62) | id); // finalized
    m.put64(kDescs + slot * 24 + 8, lpos);
    m.put64(kDescs + slot * 24 + 16, lpos + blk);
    m.put64(kInfos + slot * 88 + 8, 1000ULL * (i + 1));
    m.put16(kInfos + slot * 88 + 16, static_cast<std::uint16_t>(text.size()));
    lpos += blk;
  }
  m.put64(kRb + 24, kFirstId + kRecords - 1); // head
  m.put64(kRb + 32, kFirstId);                // tail
  DmesgStats st;
  auto out = extract_dmesg(m, Vmcoreinfo::parse(vmcoreinfo_prb()), st);
  REQUIRE(out);
  CHECK(out->find("] record 0 ") == std::string::npos);
  CHECK(out->find("] record " + std::to_string(kRecords - 1) + " ") != std::string::npos);
  const std::uint64_t kept = (32 * kMiB) / 1000;
  CHECK(st.records == kept);
  CHECK(st.skipped_old == kRecords - kept);
  CHECK(m.largest_read <= 1 * kMiB);
}

TEST_CASE("dmesg bounds: the text is streamed in bounded pieces, to a file by save_dmesg",
          "[dmesg][bounds]") {
  SparseMemory m;
  m.put64(kLogBufVar, kLogBuf);
  m.put32(kLogBufLenVar, 8 * kMiB);
  std::uint32_t next = 0;
  for (unsigned i = 0; i < 4000; ++i)
    next = put_record(m, next, 1000ULL * (i + 1), "line " + std::to_string(i), 512);
  m.put32(kFirstIdxVar, 0);
  m.put32(kNextIdxVar, next);
  const Vmcoreinfo vi = Vmcoreinfo::parse(vmcoreinfo_records());
  auto whole = extract_dmesg(m, vi);
  REQUIRE(whole);
  REQUIRE(whole->size() > 64 * 1024);

  std::string streamed;
  std::size_t largest_piece = 0;
  DmesgStats st;
  auto ok = crashkit::capture::write_dmesg(
      m, vi,
      [&](std::string_view piece) {
        largest_piece = std::max(largest_piece, piece.size());
        streamed.append(piece);
        return Status{};
      },
      st);
  REQUIRE(ok);
  CHECK(streamed == *whole);
  CHECK(largest_piece <= 64 * 1024 + 1024); // a piece ends at the first record past 64 KiB

  SECTION("a sink error stops the walk and is returned") {
    unsigned calls = 0;
    auto bad = crashkit::capture::write_dmesg(
        m, vi,
        [&](std::string_view) {
          ++calls;
          return Status(Error(ErrorCategory::no_space, "disk full"));
        },
        st);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().category() == ErrorCategory::no_space);
    CHECK(calls == 1);
  }
  SECTION("save_dmesg writes the file and keeps its tail") {
    char tmpl[] = "/tmp/ck-dmesg-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    const std::string path = std::string(tmpl) + "/dmesg.txt";
    auto saved = crashkit::capture::save_dmesg(m, vi, path, false);
    REQUIRE(saved);
    CHECK(saved->bytes == whole->size());
    CHECK(saved->tail == whole->substr(whole->size() - crashkit::capture::kSavedDmesgTail));
    std::FILE* f = std::fopen(path.c_str(), "rb");
    REQUIRE(f);
    std::string back(whole->size() + 1, '\0');
    back.resize(std::fread(back.data(), 1, back.size(), f));
    std::fclose(f);
    CHECK(back == *whole);
    // A log that cannot be located leaves no file.
    const std::string none = std::string(tmpl) + "/none.txt";
    CHECK_FALSE(
        crashkit::capture::save_dmesg(m, Vmcoreinfo::parse("OSRELEASE=6.1\n"), none, false));
    CHECK(::access(none.c_str(), F_OK) != 0);
    CHECK(::access((none + ".incomplete").c_str(), F_OK) != 0);
    std::remove(path.c_str());
    ::rmdir(tmpl);
  }
}

TEST_CASE("dmesg bounds: descriptors of an implausible size are fetched a few at a time",
          "[dmesg][bounds]") {
  // SIZE(prb_desc) and SIZE(printk_info) pass the layout checks up to 64 KiB each; 256 of them
  // per window would be 32 MiB.
  SparseMemory m;
  std::string vi = vmcoreinfo_prb();
  for (const char* key : {"SIZE(prb_desc)=24", "SIZE(printk_info)=88"}) {
    const auto at = vi.find(key);
    REQUIRE(at != std::string::npos);
    vi.replace(at, std::strlen(key), std::string(key).substr(0, std::strlen(key) - 2) + "65536");
  }
  m.put64(kPrbVar, kRb);
  m.put32(kRb + 0, 8); // 256 descriptors
  m.put64(kRb + 8, kDescs);
  m.put64(kRb + 16, kInfos);
  m.put32(kRb + 48, 12);
  m.put64(kRb + 56, kData);
  const std::uint64_t id = 0x100; // slot 0
  const std::string text = "only record";
  m.put64(kData, id);
  m.put(kData + 8, text.data(), text.size());
  m.put64(kDescs, (2ULL << 62) | id);
  m.put64(kDescs + 8, 0);
  m.put64(kDescs + 16, 8 + 16);
  m.put64(kInfos + 8, 5000);
  m.put16(kInfos + 16, static_cast<std::uint16_t>(text.size()));
  m.put64(kRb + 24, id);
  m.put64(kRb + 32, id);
  DmesgStats st;
  auto out = extract_dmesg(m, Vmcoreinfo::parse(vi), st);
  REQUIRE(out);
  CHECK(*out == "[    0.000005] only record\n");
  CHECK(m.largest_read <= 1 * kMiB);
}
