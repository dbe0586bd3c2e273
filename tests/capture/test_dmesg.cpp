// extract_dmesg(): synthetic printk rings (6.1 lockless layout, 5.4 and 3.5 variable-length
// records, 2.6 plain buffer) built in a fake kernel memory. Expected texts follow
// makedumpfile 1.7.2 --dump-dmesg, checked against it on vmcores holding the same rings.

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>
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

constexpr std::uint64_t kBase = 0xffffffff82000000ULL; // fake kernel VA of "physical" 0
constexpr std::uint64_t kMemSize = 0x8000;

// Where the synthetic structures live.
constexpr std::uint64_t kPrbVar = kBase + 0x0; // `prb` pointer variable
constexpr std::uint64_t kRb = kBase + 0x100;   // struct printk_ringbuffer
constexpr std::uint64_t kClearSeq = kBase + 0x200;
constexpr std::uint64_t kDescs = kBase + 0x1000;
constexpr std::uint64_t kInfos = kBase + 0x2000;
constexpr std::uint64_t kData = kBase + 0x4000;

constexpr std::uint64_t kReserved = 0, kCommitted = 1, kFinalized = 2, kReusable = 3;

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Identity-ish map: VA kBase + x is physical x, inside one vector; optional unreadable holes.
class FakeMemory final : public KernelMemory {
public:
  FakeMemory() : bytes_(kMemSize, 0) {}

  Status read_phys(std::uint64_t paddr, void* buf, std::size_t len) override {
    if (paddr > bytes_.size() || len > bytes_.size() - paddr) {
      return Error(ErrorCategory::data, "fake: read past memory at 0x" + hex(paddr));
    }
    for (const auto& [start, n] : holes_) {
      if (paddr < start + n && start < paddr + len) {
        return Error(ErrorCategory::io, "fake: hole at 0x" + hex(start));
      }
    }
    std::memcpy(buf, bytes_.data() + paddr, len);
    return {};
  }
  Result<std::uint64_t> vtop(std::uint64_t vaddr) override {
    if (vaddr < kBase || vaddr - kBase >= bytes_.size()) {
      return Error(ErrorCategory::data, "fake: unmapped 0x" + hex(vaddr));
    }
    return vaddr - kBase;
  }

  void put(std::uint64_t va, const void* p, std::size_t n) {
    REQUIRE(va >= kBase);
    REQUIRE(va - kBase + n <= bytes_.size());
    std::memcpy(bytes_.data() + (va - kBase), p, n);
  }
  void put64(std::uint64_t va, std::uint64_t v) { put(va, &v, 8); }
  void put32(std::uint64_t va, std::uint32_t v) { put(va, &v, 4); }
  void put16(std::uint64_t va, std::uint16_t v) { put(va, &v, 2); }
  void hole(std::uint64_t va, std::uint64_t n) { holes_.emplace_back(va - kBase, n); }

private:
  std::vector<std::uint8_t> bytes_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> holes_;
};

// What log_buf_vmcoreinfo_setup() of Linux 6.1 exports on x86_64 (struct prb_desc_ring has
// last_finalized_id since 5.19, hence 48 and 88 bytes).
std::string vmcoreinfo_6_1() {
  return "OSRELEASE=6.1.0-26-amd64\n"
         "PAGESIZE=4096\n"
         "SYMBOL(prb)=" +
         hex(kPrbVar) +
         "\n"
         "SYMBOL(printk_rb_static)=" +
         hex(kRb) +
         "\n"
         "SYMBOL(clear_seq)=" +
         hex(kClearSeq) +
         "\n"
         "SIZE(printk_ringbuffer)=88\n"
         "OFFSET(printk_ringbuffer.desc_ring)=0\n"
         "OFFSET(printk_ringbuffer.text_data_ring)=48\n"
         "OFFSET(printk_ringbuffer.fail)=80\n"
         "SIZE(prb_desc_ring)=48\n"
         "OFFSET(prb_desc_ring.count_bits)=0\n"
         "OFFSET(prb_desc_ring.descs)=8\n"
         "OFFSET(prb_desc_ring.infos)=16\n"
         "OFFSET(prb_desc_ring.head_id)=24\n"
         "OFFSET(prb_desc_ring.tail_id)=32\n"
         "SIZE(prb_desc)=24\n"
         "OFFSET(prb_desc.state_var)=0\n"
         "OFFSET(prb_desc.text_blk_lpos)=8\n"
         "SIZE(prb_data_blk_lpos)=16\n"
         "OFFSET(prb_data_blk_lpos.begin)=0\n"
         "OFFSET(prb_data_blk_lpos.next)=8\n"
         "SIZE(printk_info)=88\n"
         "OFFSET(printk_info.seq)=0\n"
         "OFFSET(printk_info.ts_nsec)=8\n"
         "OFFSET(printk_info.text_len)=16\n"
         "OFFSET(printk_info.caller_id)=20\n"
         "OFFSET(printk_info.dev_info)=24\n"
         "SIZE(dev_printk_info)=64\n"
         "OFFSET(dev_printk_info.subsystem)=0\n"
         "LENGTH(printk_info_subsystem)=16\n"
         "OFFSET(dev_printk_info.device)=16\n"
         "LENGTH(printk_info_device)=48\n"
         "SIZE(prb_data_ring)=32\n"
         "OFFSET(prb_data_ring.size_bits)=0\n"
         "OFFSET(prb_data_ring.data)=8\n"
         "OFFSET(prb_data_ring.head_lpos)=16\n"
         "OFFSET(prb_data_ring.tail_lpos)=24\n"
         "SIZE(atomic_long_t)=8\n"
         "OFFSET(atomic_long_t.counter)=0\n"
         "SIZE(latched_seq)=24\n"
         "OFFSET(latched_seq.val)=8\n"
         "CRASHTIME=1700000000\n";
}

// Drops the line of `key`, or sets it to `value`.
std::string edit(const std::string& text, const std::string& key, const char* value = nullptr) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind(key + "=", 0) == 0) {
      if (value)
        out += key + "=" + value + "\n";
      continue;
    }
    out += line + "\n";
  }
  return out;
}

// A printk_ringbuffer written the way the 6.1 kernel writes it: ids from kFirstId, data blocks
// of id + text aligned to 8 bytes, a block that would cross the ring's end stored at its start
// with only the id at the old position.
class Ring {
public:
  static constexpr std::uint64_t kFirstId = 0x1230;

  Ring(FakeMemory& m, unsigned count_bits = 4, unsigned size_bits = 9, std::uint64_t first_lpos = 0)
      : m_(m), count_bits_(count_bits), size_bits_(size_bits), lpos_(first_lpos) {
    m_.put64(kPrbVar, kRb);
    m_.put32(kRb + 0, count_bits);
    m_.put64(kRb + 8, kDescs);
    m_.put64(kRb + 16, kInfos);
    m_.put32(kRb + 48, size_bits);
    m_.put64(kRb + 56, kData);
    set_head_tail(kFirstId - 1, kFirstId - 1);
  }

  std::uint64_t size() const { return 1ULL << size_bits_; }
  std::uint64_t desc(std::uint64_t id) const {
    return kDescs + (id & ((1ULL << count_bits_) - 1)) * 24;
  }
  std::uint64_t info(std::uint64_t id) const {
    return kInfos + (id & ((1ULL << count_bits_) - 1)) * 88;
  }

  /// Appends a record; returns its id. Head moves to it, tail stays at the first record.
  std::uint64_t add(const std::string& text, std::uint64_t ts_nsec,
                    std::uint64_t state = kFinalized) {
    const std::uint64_t id = next_id_++;
    const std::uint64_t blk = 8 + ((text.size() + 7) & ~7ULL);
    const std::uint64_t begin = lpos_;
    std::uint64_t next = begin + blk;
    std::uint64_t at = begin & (size() - 1);
    if ((begin >> size_bits_) != (next >> size_bits_)) {
      m_.put64(kData + at, id);
      next = ((next >> size_bits_) << size_bits_) + blk;
      at = 0;
      wrapped_ = true;
    }
    m_.put64(kData + at, id);
    m_.put(kData + at + 8, text.data(), text.size());
    m_.put64(desc(id), (state << 62) | id);
    m_.put64(desc(id) + 8, begin);
    m_.put64(desc(id) + 16, next);
    m_.put64(info(id), id - kFirstId);
    m_.put64(info(id) + 8, ts_nsec);
    m_.put16(info(id) + 16, static_cast<std::uint16_t>(text.size()));
    m_.put32(info(id) + 20, 0x80000000U | 1);
    lpos_ = next;
    set_head_tail(id, kFirstId);
    return id;
  }
  /// A record without text (FAILED_LPOS).
  std::uint64_t add_dataless(std::uint64_t ts_nsec) {
    const std::uint64_t id = next_id_++;
    m_.put64(desc(id), (kFinalized << 62) | id);
    m_.put64(desc(id) + 8, 1);
    m_.put64(desc(id) + 16, 1);
    m_.put64(info(id) + 8, ts_nsec);
    set_head_tail(id, kFirstId);
    return id;
  }

  void set_head_tail(std::uint64_t head, std::uint64_t tail) {
    m_.put64(kRb + 24, head);
    m_.put64(kRb + 32, tail);
  }
  void set_state_var(std::uint64_t id, std::uint64_t sv) { m_.put64(desc(id), sv); }
  void set_lpos(std::uint64_t id, std::uint64_t begin, std::uint64_t next) {
    m_.put64(desc(id) + 8, begin);
    m_.put64(desc(id) + 16, next);
  }
  void set_text_len(std::uint64_t id, std::uint16_t n) { m_.put16(info(id) + 16, n); }
  bool wrapped() const { return wrapped_; }

private:
  FakeMemory& m_;
  unsigned count_bits_, size_bits_;
  std::uint64_t lpos_;
  std::uint64_t next_id_ = kFirstId;
  bool wrapped_ = false;
};

std::string dmesg_ok(FakeMemory& m, const std::string& vmcoreinfo, DmesgStats& st) {
  auto r = extract_dmesg(m, Vmcoreinfo::parse(vmcoreinfo), st);
  if (!r)
    FAIL("extract_dmesg failed: " << r.error().message());
  return *r;
}

Error dmesg_err(FakeMemory& m, const std::string& vmcoreinfo) {
  auto r = extract_dmesg(m, Vmcoreinfo::parse(vmcoreinfo));
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

} // namespace

TEST_CASE("dmesg lockless: records in order with makedumpfile's timestamp prefix", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  ring.add("Linux version 6.1.0-26-amd64", 0);
  ring.add("Command line: root=/dev/vda1", 1500);     // 1.5 us -> .000001
  ring.add("sysrq: Trigger a crash", 42123456789ULL); // 42.123456789 s
  ring.add("", 43000000000ULL);                       // empty text still gets a line
  DmesgStats st;
  const std::string out = dmesg_ok(m, vmcoreinfo_6_1(), st);
  CHECK(out == "[    0.000000] Linux version 6.1.0-26-amd64\n"
               "[    0.000001] Command line: root=/dev/vda1\n"
               "[   42.123456] sysrq: Trigger a crash\n"
               "[   43.000000] \n");
  CHECK(st.layout == DmesgStats::Layout::lockless);
  CHECK(st.records == 4);
  CHECK(st.skipped_corrupt == 0);
  CHECK_FALSE(st.walk_cut_short);
}

TEST_CASE("dmesg lockless: a data block wrapped to the ring's start", "[dmesg]") {
  FakeMemory m;
  // 512-byte ring, first block 40 bytes before the end: the second (48 bytes) wraps.
  Ring ring(m, 4, 9, 3 * 512 - 40);
  ring.add("before end", 1000000000);
  ring.add("this block crosses the end of the ring", 2000000000);
  ring.add("after", 3000000000ULL);
  REQUIRE(ring.wrapped());
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_6_1(), st) ==
        "[    1.000000] before end\n"
        "[    2.000000] this block crosses the end of the ring\n"
        "[    3.000000] after\n");
  CHECK(st.skipped_corrupt == 0);
}

TEST_CASE("dmesg lockless: logical positions overflowing 64 bits (BLK0_LPOS start)", "[dmesg]") {
  FakeMemory m;
  Ring ring(m, 4, 9, ~0ULL - 512 + 1 + 480); // -512 + 480: the kernel's initial wrap
  ring.add("near the top of lpos", 1000000000);
  ring.add("wrapped past 2^64", 2000000000);
  REQUIRE(ring.wrapped());
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_6_1(), st) == "[    1.000000] near the top of lpos\n"
                                             "[    2.000000] wrapped past 2^64\n");
}

TEST_CASE("dmesg lockless: multi-line text, wide timestamps, non-printable bytes", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  ring.add("first line\nsecond\tline\n", 5000000);
  static const char kBytes[] = "ctl \x01\x1b\x7f utf8 \xc3\xa9 nul \0!";
  ring.add(std::string(kBytes, sizeof kBytes - 1), 6000000);
  ring.add("uptime over a day\nindent follows", 123456789012345ULL);
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_6_1(), st) ==
        "[    0.005000] first line\n"
        "               second\tline\n"
        "               \n"
        "[    0.006000] ctl \\x01\\x1b\\x7f utf8 \\xffffffc3\\xffffffa9 nul \\x00!\n"
        "[123456.789012] uptime over a day\n"
        "                indent follows\n");
}

TEST_CASE("dmesg lockless: only committed and finalized descriptors of the right id", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  ring.add("finalized", 1000);
  ring.add("committed, may still be extended", 2000, kCommitted);
  ring.add("reserved by a writer", 3000, kReserved);
  ring.add("reusable", 4000, kReusable);
  const std::uint64_t recycled = ring.add("slot reused by an older id", 5000);
  ring.set_state_var(recycled, (kFinalized << 62) | (recycled - 16));
  ring.add_dataless(6000);
  ring.add("last", 7000);
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_6_1(), st) == "[    0.000001] finalized\n"
                                             "[    0.000002] committed, may still be extended\n"
                                             "[    0.000007] last\n");
  CHECK(st.records == 3);
  CHECK(st.skipped_corrupt == 0); // these are normal states, not damage
}

TEST_CASE("dmesg lockless: corrupted lengths and positions are skipped safely", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  const std::uint64_t a = ring.add("text_len larger than the block", 1000);
  const std::uint64_t b = ring.add("positions from another universe", 2000);
  const std::uint64_t c = ring.add("block too short for its id", 3000);
  const std::uint64_t d = ring.add("empty block at the ring's end", 4000);
  ring.add("intact", 5000);
  ring.set_text_len(a, 0xffff);             // bounded by the block: text + 2 padding bytes
  ring.set_lpos(b, 0x100, 0x100 + 512 * 7); // spans seven wraps
  ring.set_lpos(c, 0x40, 0x44);             // 4 bytes, less than the block id
  ring.set_lpos(d, 512 - 48, 512);          // "wrapped" block of 0 bytes at the start
  ring.set_text_len(d, 0xffff);
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_6_1(), st) ==
        "[    0.000001] text_len larger than the block\\x00\\x00\n"
        "[    0.000005] intact\n");
  CHECK(st.skipped_corrupt == 3);
  CHECK(st.records == 2);
}

TEST_CASE("dmesg lockless: tail far behind head walks only the last ring's worth", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  const std::uint64_t first = ring.add("one", 1000);
  const std::uint64_t last = ring.add("two", 2000);
  ring.set_head_tail(last, first - (1ULL << 40));
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_6_1(), st) == "[    0.000001] one\n"
                                             "[    0.000002] two\n");
  CHECK(st.walk_cut_short);
}

TEST_CASE("dmesg lockless: unreadable descriptors or text skip only their records", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  ring.add("zero", 1000);
  const std::uint64_t one = ring.add("one", 2000);
  ring.add("two has its text in a hole", 3000);
  ring.add("three", 4000);
  m.hole(ring.desc(one), 24);    // breaks the descriptor window read; others are re-read singly
  m.hole(kData + 32 + 8 + 4, 1); // blocks: zero 0..16, one 16..32, two 32..72
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_6_1(), st) == "[    0.000001] zero\n"
                                             "[    0.000004] three\n");
  CHECK(st.skipped_unreadable == 2);
}

TEST_CASE("dmesg lockless: impossible ring sizes are refused", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  ring.add("x", 1);
  SECTION("count_bits") {
    m.put32(kRb + 0, 31);
    const Error e = dmesg_err(m, vmcoreinfo_6_1());
    CHECK(e.category() == ErrorCategory::data);
    CHECK_THAT(e.what(), Catch::Contains("count_bits 31"));
  }
  SECTION("count_bits above what log_buf_len= can give (2^31 bytes / 32)") {
    m.put32(kRb + 0, 27);
    const Error e = dmesg_err(m, vmcoreinfo_6_1());
    CHECK(e.category() == ErrorCategory::data);
    CHECK_THAT(e.what(), Catch::Contains("count_bits 27"));
  }
  SECTION("size_bits") {
    m.put32(kRb + 48, 40);
    const Error e = dmesg_err(m, vmcoreinfo_6_1());
    CHECK(e.category() == ErrorCategory::data);
    CHECK_THAT(e.what(), Catch::Contains("size_bits 40"));
  }
  SECTION("prb pointer to nowhere") {
    m.put64(kPrbVar, 0xffff888000000000ULL);
    const Error e = dmesg_err(m, vmcoreinfo_6_1());
    CHECK_THAT(e.what(), Catch::Contains("read printk_ringbuffer at 0xffff888000000000"));
  }
}

TEST_CASE("dmesg: missing VMCOREINFO keys are all named", "[dmesg]") {
  FakeMemory m;
  Ring ring(m);
  ring.add("x", 1);
  std::string vi = edit(vmcoreinfo_6_1(), "OFFSET(prb_desc_ring.infos)");
  vi = edit(vi, "SIZE(printk_info)");
  vi = edit(vi, "OFFSET(atomic_long_t.counter)");
  const Error e = dmesg_err(m, vi);
  CHECK(e.category() == ErrorCategory::unsupported);
  CHECK(e.what() == "dmesg: printk_ringbuffer: VMCOREINFO lacks OFFSET(prb_desc_ring.infos), "
                    "SIZE(printk_info), OFFSET(atomic_long_t.counter)");

  SECTION("neither layout") {
    const Error e2 = dmesg_err(m, "OSRELEASE=6.1.0\nPAGESIZE=4096\n");
    CHECK(e2.category() == ErrorCategory::unsupported);
    CHECK_THAT(e2.what(), Catch::Contains("SYMBOL(prb)") && Catch::Contains("SYMBOL(log_buf)"));
  }
  SECTION("offsets outside their structure") {
    const Error e3 = dmesg_err(m, edit(vmcoreinfo_6_1(), "OFFSET(printk_info.text_len)", "87"));
    CHECK(e3.category() == ErrorCategory::data);
    CHECK_THAT(e3.what(), Catch::Contains("printk_info.text_len ends at 89"));
  }
  SECTION("negative size") {
    const Error e4 = dmesg_err(m, edit(vmcoreinfo_6_1(), "SIZE(prb_desc)", "-24"));
    CHECK_THAT(e4.what(), Catch::Contains("SIZE(prb_desc)=-24"));
  }
}

// ---------------------------------------------------------------------------------------------
// 3.5–5.9: variable-length records in log_buf.

namespace {

constexpr std::uint64_t kLogBufVar = kBase + 0x0;
constexpr std::uint64_t kLogBufLenVar = kBase + 0x8;
constexpr std::uint64_t kFirstIdxVar = kBase + 0x10;
constexpr std::uint64_t kNextIdxVar = kBase + 0x14;
constexpr std::uint64_t kLogEndVar = kBase + 0x18;
constexpr std::uint64_t kLogBuf = kBase + 0x1000;

// 5.4 on x86_64 (struct printk_log, 16 bytes); before 3.11 the struct was `struct log`.
std::string vmcoreinfo_records(const std::string& type = "printk_log") {
  return "OSRELEASE=5.4.0-1-amd64\n"
         "PAGESIZE=4096\n"
         "SYMBOL(log_buf)=" +
         hex(kLogBufVar) +
         "\n"
         "SYMBOL(log_buf_len)=" +
         hex(kLogBufLenVar) +
         "\n"
         "SYMBOL(log_first_idx)=" +
         hex(kFirstIdxVar) +
         "\n"
         "SYMBOL(clear_idx)=" +
         hex(kBase + 0x20) +
         "\n"
         "SYMBOL(log_next_idx)=" +
         hex(kNextIdxVar) +
         "\n"
         "SIZE(" +
         type +
         ")=16\n"
         "OFFSET(" +
         type +
         ".ts_nsec)=0\n"
         "OFFSET(" +
         type +
         ".len)=8\n"
         "OFFSET(" +
         type +
         ".text_len)=10\n"
         "OFFSET(" +
         type + ".dict_len)=12\n";
}

class LogBuf {
public:
  LogBuf(FakeMemory& m, std::uint32_t len) : m_(m) {
    m_.put64(kLogBufVar, kLogBuf);
    m_.put32(kLogBufLenVar, len);
  }
  /// Writes a record (header, text, a dict the reader must ignore) at idx; returns the next idx.
  std::uint32_t add(std::uint32_t idx, std::uint64_t ts, const std::string& text) {
    const std::string dict = "SUBSYSTEM=pci";
    const auto len = static_cast<std::uint16_t>((16 + text.size() + dict.size() + 7) & ~7U);
    m_.put64(kLogBuf + idx, ts);
    m_.put16(kLogBuf + idx + 8, len);
    m_.put16(kLogBuf + idx + 10, static_cast<std::uint16_t>(text.size()));
    m_.put16(kLogBuf + idx + 12, static_cast<std::uint16_t>(dict.size()));
    m_.put(kLogBuf + idx + 16, text.data(), text.size());
    m_.put(kLogBuf + idx + 16 + text.size(), dict.data(), dict.size());
    return idx + len;
  }
  void end_marker(std::uint32_t idx) { m_.put(kLogBuf + idx, std::string(16, '\0').data(), 16); }
  void indices(std::uint32_t first, std::uint32_t next) {
    m_.put32(kFirstIdxVar, first);
    m_.put32(kNextIdxVar, next);
  }

private:
  FakeMemory& m_;
};

} // namespace

TEST_CASE("dmesg log_buf records: order, wrap marker, multi-line", "[dmesg]") {
  FakeMemory m;
  LogBuf lb(m, 256);
  // Oldest records sit near the end of the buffer, then a len-0 marker, then newer ones at 0.
  std::uint32_t idx = lb.add(136, 1000000, "oldest");
  idx = lb.add(idx, 2000000, "two\nlines");
  lb.end_marker(idx);
  std::uint32_t next = lb.add(0, 3000000, "after the wrap \x02");
  next = lb.add(next, 4000000, "newest");
  lb.indices(136, next);
  DmesgStats st;
  const std::string expected = "[    0.001000] oldest\n"
                               "[    0.002000] two\n"
                               "               lines\n"
                               "[    0.003000] after the wrap \\x02\n"
                               "[    0.004000] newest\n";
  CHECK(dmesg_ok(m, vmcoreinfo_records(), st) == expected);
  CHECK(st.layout == DmesgStats::Layout::variable_records);
  CHECK(st.records == 4);
  CHECK_FALSE(st.walk_cut_short);

  SECTION("3.5-3.10 name the struct `log`") {
    DmesgStats st2;
    CHECK(dmesg_ok(m, vmcoreinfo_records("log"), st2) == expected);
  }
}

TEST_CASE("dmesg log_buf records: a broken length stops the walk, never overruns", "[dmesg]") {
  FakeMemory m;
  LogBuf lb(m, 256);
  std::uint32_t idx = lb.add(0, 1000, "good");
  const std::uint32_t bad = idx;
  idx = lb.add(idx, 2000, "bad length");
  idx = lb.add(idx, 3000, "unreachable");
  lb.indices(0, idx);
  std::string expected = "[    0.000001] good\n";
  SECTION("length shorter than the header") {
    m.put16(kLogBuf + bad + 8, 4);
  }
  SECTION("length and text_len past the buffer") {
    m.put16(kLogBuf + bad + 8, 0xfff8);
    m.put16(kLogBuf + bad + 10, 0xffe0);
  }
  SECTION("next header would straddle the buffer's end") {
    m.put16(kLogBuf + bad + 8, static_cast<std::uint16_t>(256 - 8 - bad));
    expected += "[    0.000002] bad length\n";
  }
  SECTION("text_len beyond its record is cut at the record's end") {
    m.put16(kLogBuf + 10, 0x30); // "good" + 13-byte dict in a 40-byte record
    m.put16(kLogBuf + bad + 8, 4);
    expected = "[    0.000001] goodSUBSYSTEM=pci\\x00\\x00\\x00\\x00\\x00\\x00\\x00\n";
  }
  SECTION("marker pointing at a marker") {
    lb.end_marker(bad);
    lb.end_marker(0);
    expected.clear();
  }
  DmesgStats st;
  CHECK(dmesg_ok(m, vmcoreinfo_records(), st) == expected);
  CHECK(st.walk_cut_short);
  CHECK(st.skipped_corrupt == 1);
}

TEST_CASE("dmesg log_buf records: indices and keys are checked", "[dmesg]") {
  FakeMemory m;
  LogBuf lb(m, 256);
  lb.add(0, 1000, "x");
  SECTION("first index outside the buffer") {
    lb.indices(300, 0);
    const Error e = dmesg_err(m, vmcoreinfo_records());
    CHECK(e.category() == ErrorCategory::data);
    CHECK_THAT(e.what(), Catch::Contains("log_first_idx 0x12c"));
  }
  SECTION("log_buf_len of zero") {
    lb.indices(0, 24);
    m.put32(kLogBufLenVar, 0);
    CHECK_THAT(dmesg_err(m, vmcoreinfo_records()).what(), Catch::Contains("log_buf_len 0"));
  }
  SECTION("missing record layout") {
    lb.indices(0, 24);
    std::string vi = edit(vmcoreinfo_records(), "SIZE(printk_log)");
    vi = edit(vi, "OFFSET(printk_log.text_len)");
    vi = edit(vi, "SYMBOL(log_next_idx)");
    const Error e = dmesg_err(m, vi);
    CHECK(e.category() == ErrorCategory::unsupported);
    CHECK(e.what() ==
          "dmesg: log_buf records: VMCOREINFO lacks SYMBOL(log_next_idx), SIZE(printk_log), "
          "OFFSET(printk_log.text_len)");
  }
}

// ---------------------------------------------------------------------------------------------
// < 3.5: plain character buffer, written out raw, oldest byte first.

TEST_CASE("dmesg plain log_buf: raw bytes, rotated once log_end passed the size", "[dmesg]") {
  FakeMemory m;
  const std::string vi = "OSRELEASE=2.6.32-5-amd64\nPAGESIZE=4096\n"
                         "SYMBOL(log_buf)=" +
                         hex(kLogBufVar) +
                         "\n"
                         "SYMBOL(log_buf_len)=" +
                         hex(kLogBufLenVar) +
                         "\n"
                         "SYMBOL(log_end)=" +
                         hex(kLogEndVar) + "\n";
  m.put64(kLogBufVar, kLogBuf);
  m.put32(kLogBufLenVar, 16);
  m.put(kLogBuf, "KLMNOPabcdefghij", 16);
  DmesgStats st;
  SECTION("not yet full") {
    m.put32(kLogEndVar, 5);
    CHECK(dmesg_ok(m, vi, st) == "KLMNO");
  }
  SECTION("wrapped") {
    m.put32(kLogEndVar, 16 + 16 + 6); // 38 characters ever written; oldest at index 6
    CHECK(dmesg_ok(m, vi, st) == "abcdefghijKLMNOP");
  }
  CHECK(st.layout == DmesgStats::Layout::plain);
}

TEST_CASE("dmesg lockless: a descriptor ring nowhere stops the walk, not one read per id",
          "[dmesg]") {
  FakeMemory m;
  Ring ring(m, 26);
  ring.set_head_tail(Ring::kFirstId + (1ULL << 26) - 2, Ring::kFirstId);
  m.put64(kRb + 8, 0xffff888000000000ULL); // descs: not in the dump
  DmesgStats st;
  (void)extract_dmesg(m, Vmcoreinfo::parse(vmcoreinfo_6_1()), st);
  // Before, each of the 2^26 ids failed its own read (minutes); the walk now gives up.
  CHECK(st.walk_cut_short);
  CHECK(st.skipped_unreadable == 4096);
}
