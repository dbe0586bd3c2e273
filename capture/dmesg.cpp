#include "crashkit/capture/dmesg.hpp"

#include "crashkit/base/hex.hpp"
#include "crashkit/capture/output_sink.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "layout_keys.hpp"
#include "struct_fields.hpp"

namespace crashkit::capture {
namespace {

// LP64 only: pointers, unsigned long lpos values and atomic_long_t counters are 8 bytes.
constexpr std::uint64_t kWord = 8;
// Kernel log_buf_len is a u32 rounded to a power of two, so neither ring can exceed 2^31 bytes,
// and there is one descriptor per 2^PRB_AVGBITS (32) text bytes (kernel/printk/printk.c
// setup_log_buf(): new_descs_count = new_log_buf_len >> PRB_AVGBITS, since v5.10): at most 2^26.
constexpr std::uint64_t kMaxCountBits = 31 - 5;
constexpr std::uint64_t kMaxSizeBits = 31;
constexpr std::uint64_t kMaxLogBufLen = 1ULL << 31;
// init/Kconfig: CONFIG_LOG_BUF_SHIFT is at most 25, a 32 MiB log; only log_buf_len= on the
// command line makes it larger (up to kMaxLogBufLen). Of a larger log only the newest 32 MiB of
// records are read, so the capture kernel never holds or walks more than a built-in log.
constexpr std::uint64_t kMaxLogRead = 1ULL << 25;
// Descriptors live in kernel memory that /proc/vmcore always has; this many unreadable in a row
// means the ring pointer is wrong, and the walk stops instead of failing one read per id.
constexpr std::uint64_t kMaxUnreadableRun = 1ULL << 12;
// Descriptors (and their printk_info) are fetched this many at a time, within this many bytes
// (SIZE(prb_desc) and SIZE(printk_info) come from the dump).
constexpr std::uint64_t kDescWindow = 256;
constexpr std::uint64_t kDescWindowBytes = 64 << 10;
// Formatted text is handed to the caller in pieces of this size.
constexpr std::size_t kOutChunk = 64 << 10;
// log_buf (< 5.10) is read this much at a time; a record is at most 64 KiB (u16 len).
constexpr std::uint64_t kLogWindow = 128 << 10;

// printk_ringbuffer.h (5.10+): on LP64 the top two bits of state_var hold the descriptor
// state, the rest its id. Only committed and finalized records are complete.
constexpr std::uint64_t kDescIdMask = ~(3ULL << 62);
constexpr std::uint64_t kDescCommitted = 1;
constexpr std::uint64_t kDescFinalized = 2;

Error data_error(const std::string& what) {
  return Error(ErrorCategory::data, "dmesg: " + what);
}

// The formatted log, buffered up to kOutChunk bytes and then handed to the caller's sink; the
// first sink error is kept and stops the extraction.
class TextOut {
public:
  explicit TextOut(const DmesgSink& sink) : sink_(sink) { buf_.reserve(kOutChunk); }
  void append(const char* p, std::size_t n) {
    buf_.append(p, n);
    if (buf_.size() >= kOutChunk)
      (void)flush();
  }
  void append(std::size_t n, char c) { append(std::string(n, c).data(), n); }
  TextOut& operator+=(char c) {
    append(&c, 1);
    return *this;
  }
  Status flush() {
    if (status_ && !buf_.empty())
      status_ = sink_(buf_);
    buf_.clear();
    return status_;
  }
  bool ok() const { return static_cast<bool>(status_); }

private:
  const DmesgSink& sink_;
  std::string buf_;
  Status status_;
};

// Appends one record the way makedumpfile 1.7.2 (printk.c dump_record / makedumpfile.c
// dump_log_entry) prints it. It tests `isprint(*p) || isspace(*p)` on a signed char in the C
// locale and prints the rest with "\\x%02x" of that char promoted to int, so bytes >= 0x80 come
// out sign-extended ("\xffffffc3"); a newline is followed by the prefix's width of spaces.
void append_record(TextOut& out, std::uint64_t ts_nsec, const std::uint8_t* text, std::size_t len) {
  char prefix[64];
  const int n = std::snprintf(prefix, sizeof prefix, "[%5llu.%06lu] ",
                              static_cast<unsigned long long>(ts_nsec / 1000000000ULL),
                              static_cast<unsigned long>((ts_nsec % 1000000000ULL) / 1000));
  const std::size_t indent = n > 0 ? static_cast<std::size_t>(n) : 0;
  out.append(prefix, indent);
  for (std::size_t i = 0; i < len; ++i) {
    const std::uint8_t c = text[i];
    if (c == '\n') {
      out += '\n';
      out.append(indent, ' ');
    } else if ((c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r')) {
      out += static_cast<char>(c);
    } else {
      char esc[16];
      const unsigned v = c >= 0x80 ? (0xffffff00U | c) : c;
      const int m = std::snprintf(esc, sizeof esc, "\\x%02x", v);
      out.append(esc, m > 0 ? static_cast<std::size_t>(m) : 0);
    }
  }
  out += '\n';
}

// ---------------------------------------------------------------------------------------------
// Lockless printk_ringbuffer (5.10+).

struct PrbLayout {
  std::uint64_t prb = 0; // address of the `prb` pointer variable
  std::uint64_t rb_size = 0, rb_desc_ring = 0, rb_text_ring = 0;
  std::uint64_t ring_count_bits = 0, ring_descs = 0, ring_infos = 0, ring_head = 0, ring_tail = 0;
  std::uint64_t desc_size = 0, desc_state = 0, desc_lpos = 0;
  std::uint64_t lpos_begin = 0, lpos_next = 0;
  std::uint64_t info_size = 0, info_ts = 0, info_text_len = 0;
  std::uint64_t data_size_bits = 0, data_data = 0;
  std::uint64_t counter = 0; // OFFSET(atomic_long_t.counter)
};

Result<PrbLayout> prb_layout(const Vmcoreinfo& info) {
  const std::string what = "printk_ringbuffer";
  if (auto w = info.size("atomic_long_t"); w && *w != static_cast<std::int64_t>(kWord)) {
    return Error(ErrorCategory::unsupported, "dmesg: " + what +
                                                 ": SIZE(atomic_long_t)=" + std::to_string(*w) +
                                                 ", only 64-bit kernels are supported");
  }
  LayoutKeys k(info);
  PrbLayout L;
  L.prb = k.symbol("prb");
  L.rb_size = k.size("printk_ringbuffer");
  L.rb_desc_ring = k.offset("printk_ringbuffer.desc_ring");
  L.rb_text_ring = k.offset("printk_ringbuffer.text_data_ring");
  L.ring_count_bits = k.offset("prb_desc_ring.count_bits");
  L.ring_descs = k.offset("prb_desc_ring.descs");
  L.ring_infos = k.offset("prb_desc_ring.infos");
  L.ring_head = k.offset("prb_desc_ring.head_id");
  L.ring_tail = k.offset("prb_desc_ring.tail_id");
  L.desc_size = k.size("prb_desc");
  L.desc_state = k.offset("prb_desc.state_var");
  L.desc_lpos = k.offset("prb_desc.text_blk_lpos");
  L.lpos_begin = k.offset("prb_data_blk_lpos.begin");
  L.lpos_next = k.offset("prb_data_blk_lpos.next");
  L.info_size = k.size("printk_info");
  L.info_ts = k.offset("printk_info.ts_nsec");
  L.info_text_len = k.offset("printk_info.text_len");
  L.data_size_bits = k.offset("prb_data_ring.size_bits");
  L.data_data = k.offset("prb_data_ring.data");
  L.counter = k.offset("atomic_long_t.counter");
  CK_TRY(k.check("dmesg: " + what));

  const std::uint64_t dr = L.rb_desc_ring, tr = L.rb_text_ring;
  k.fits(dr + L.ring_count_bits, 4, L.rb_size, "prb_desc_ring.count_bits");
  k.fits(dr + L.ring_descs, kWord, L.rb_size, "prb_desc_ring.descs");
  k.fits(dr + L.ring_infos, kWord, L.rb_size, "prb_desc_ring.infos");
  k.fits(dr + L.ring_head + L.counter, kWord, L.rb_size, "prb_desc_ring.head_id");
  k.fits(dr + L.ring_tail + L.counter, kWord, L.rb_size, "prb_desc_ring.tail_id");
  k.fits(tr + L.data_size_bits, 4, L.rb_size, "prb_data_ring.size_bits");
  k.fits(tr + L.data_data, kWord, L.rb_size, "prb_data_ring.data");
  k.fits(L.desc_state + L.counter, kWord, L.desc_size, "prb_desc.state_var");
  k.fits(L.desc_lpos + L.lpos_begin, kWord, L.desc_size, "prb_desc.text_blk_lpos.begin");
  k.fits(L.desc_lpos + L.lpos_next, kWord, L.desc_size, "prb_desc.text_blk_lpos.next");
  k.fits(L.info_ts, 8, L.info_size, "printk_info.ts_nsec");
  k.fits(L.info_text_len, 2, L.info_size, "printk_info.text_len");
  CK_TRY(k.check("dmesg: " + what));
  return L;
}

// Descriptors and their printk_info, fetched a window at a time. A window that cannot be read
// whole (a hole in the dump) falls back to reading the one descriptor asked for.
class DescCache {
public:
  DescCache(KernelMemory& mem, const PrbLayout& L, std::uint64_t descs, std::uint64_t infos,
            std::uint64_t count)
      : mem_(mem), L_(L), descs_(descs), infos_(infos),
        window_(std::max<std::uint64_t>(
            1, std::min(
                   {count, kDescWindow, kDescWindowBytes / std::max(L.desc_size, L.info_size)}))) {}

  /// Makes descriptor `index` available through desc()/info(); false when unreadable.
  bool load(std::uint64_t index) {
    const std::uint64_t start = index - index % window_;
    if (start != start_) {
      start_ = start;
      desc_.resize(window_ * L_.desc_size);
      info_.resize(window_ * L_.info_size);
      window_ok_ = read(start, window_, desc_, info_);
    }
    if (window_ok_) {
      unreadable_run_ = 0;
      cur_desc_ = desc_.data() + (index - start_) * L_.desc_size;
      cur_info_ = info_.data() + (index - start_) * L_.info_size;
      return true;
    }
    one_desc_.resize(L_.desc_size);
    one_info_.resize(L_.info_size);
    if (!read(index, 1, one_desc_, one_info_)) {
      ++unreadable_run_;
      return false;
    }
    unreadable_run_ = 0;
    cur_desc_ = one_desc_.data();
    cur_info_ = one_info_.data();
    return true;
  }
  const std::uint8_t* desc() const { return cur_desc_; }
  const std::uint8_t* info() const { return cur_info_; }
  /// kMaxUnreadableRun descriptors in a row could not be read: the walk should stop.
  bool hopeless() const { return unreadable_run_ >= kMaxUnreadableRun; }

private:
  bool read(std::uint64_t first, std::uint64_t n, std::vector<std::uint8_t>& d,
            std::vector<std::uint8_t>& i) {
    return mem_.read_virt(descs_ + first * L_.desc_size, d.data(), n * L_.desc_size) &&
           mem_.read_virt(infos_ + first * L_.info_size, i.data(), n * L_.info_size);
  }

  KernelMemory& mem_;
  const PrbLayout& L_;
  std::uint64_t descs_, infos_, window_;
  std::uint64_t start_ = ~0ULL;
  bool window_ok_ = false;
  std::vector<std::uint8_t> desc_, info_, one_desc_, one_info_;
  const std::uint8_t* cur_desc_ = nullptr;
  const std::uint8_t* cur_info_ = nullptr;
  std::uint64_t unreadable_run_ = 0;
};

// Where a record's text block lies in a data ring of 2^size_bits bytes, from its logical
// positions; nullopt when they are impossible.
struct TextBlock {
  std::uint64_t offset = 0, len = 0;
};
std::optional<TextBlock> text_block(std::uint64_t begin, std::uint64_t next,
                                    std::uint32_t size_bits) {
  const std::uint64_t size = 1ULL << size_bits;
  // As the kernel's get_data(): a block either lies inside one wrap, or would have crossed
  // the end and was stored whole at the start of the next wrap (only its id sits at
  // @begin). makedumpfile compares the positions modulo the ring size instead, which gives
  // the same answer for every block shorter than half the ring (records are <= 1 KiB, rings
  // >= 4 KiB) and garbage for damaged ones.
  TextBlock b;
  if ((begin >> size_bits) == (next >> size_bits) && begin < next) {
    b = {begin & (size - 1), next - begin};
  } else if (((begin + size) >> size_bits) == (next >> size_bits)) {
    b = {0, next & (size - 1)};
  } else {
    return std::nullopt;
  }
  if (b.len < kWord) // no room even for the block's id
    return std::nullopt;
  return b;
}

Status dump_lockless(KernelMemory& mem, const Vmcoreinfo& info, TextOut& out, DmesgStats& st) {
  auto lay = CK_TRY(prb_layout(info));
  const PrbLayout& L = lay;

  // SYMBOL(prb) is the pointer variable; it points at printk_rb_static or, once
  // setup_log_buf() ran, at printk_rb_dynamic.
  auto prb = CK_TRY_CONTEXT(mem.read_u64(L.prb), "dmesg: read pointer prb at " + hex(L.prb));
  std::vector<std::uint8_t> rb(L.rb_size);
  CK_TRY_CONTEXT(mem.read_virt(prb, rb.data(), rb.size()),
                 "dmesg: read printk_ringbuffer at " + hex(prb));
  const std::uint8_t* dr = rb.data() + L.rb_desc_ring;
  const std::uint8_t* tr = rb.data() + L.rb_text_ring;
  const std::uint32_t count_bits = load_field<std::uint32_t>(dr, L.ring_count_bits);
  const std::uint32_t size_bits = load_field<std::uint32_t>(tr, L.data_size_bits);
  if (count_bits > kMaxCountBits) {
    return data_error("printk_ringbuffer at " + hex(prb) + ": desc_ring.count_bits " +
                      std::to_string(count_bits) + " exceeds " + std::to_string(kMaxCountBits));
  }
  if (size_bits > kMaxSizeBits || size_bits < 4) {
    return data_error("printk_ringbuffer at " + hex(prb) + ": text_data_ring.size_bits " +
                      std::to_string(size_bits) + " outside 4.." + std::to_string(kMaxSizeBits));
  }
  const std::uint64_t count = 1ULL << count_bits;
  const std::uint64_t size = 1ULL << size_bits;
  const std::uint64_t descs = load_field<std::uint64_t>(dr, L.ring_descs);
  const std::uint64_t infos = load_field<std::uint64_t>(dr, L.ring_infos);
  const std::uint64_t data = load_field<std::uint64_t>(tr, L.data_data);
  const std::uint64_t head = load_field<std::uint64_t>(dr, L.ring_head + L.counter) & kDescIdMask;
  std::uint64_t tail = load_field<std::uint64_t>(dr, L.ring_tail + L.counter) & kDescIdMask;

  // A consistent ring has head - tail < count. Otherwise only the last `count` ids can still
  // have descriptors; walking 2^62 ids like makedumpfile would never finish.
  std::uint64_t span = (head - tail) & kDescIdMask;
  if (span >= count) {
    st.walk_cut_short = true;
    span = count - 1;
    tail = (head - span) & kDescIdMask;
  }

  DescCache cache(mem, L, descs, infos, count);
  // The readable record of id, or nullptr (slot recycled, reserved, unreadable).
  auto record = [&](std::uint64_t id) -> const std::uint8_t* {
    if (!cache.load(id & (count - 1)))
      return nullptr;
    const std::uint8_t* d = cache.desc();
    const std::uint64_t sv = load_field<std::uint64_t>(d, L.desc_state + L.counter);
    const std::uint64_t state = sv >> 62;
    if ((sv & kDescIdMask) != id || (state != kDescCommitted && state != kDescFinalized))
      return nullptr;
    return d;
  };
  // A ring larger than a built-in log (log_buf_len=): start at the oldest record that keeps
  // the text read within kMaxLogRead, counting back from the newest.
  if (size > kMaxLogRead) {
    std::uint64_t total = 0;
    for (std::uint64_t i = 0; i <= span && !cache.hopeless(); ++i) {
      const std::uint64_t id = (head - i) & kDescIdMask;
      const std::uint8_t* d = record(id);
      if (!d)
        continue;
      auto b = text_block(load_field<std::uint64_t>(d, L.desc_lpos + L.lpos_begin),
                          load_field<std::uint64_t>(d, L.desc_lpos + L.lpos_next), size_bits);
      // The bytes the walk below reads for it: at most 64 KiB (text_len is a u16), so the
      // newest record always fits and i >= 1 here.
      if (b)
        total += std::min<std::uint64_t>(load_field<std::uint16_t>(cache.info(), L.info_text_len),
                                         b->len - kWord);
      if (total > kMaxLogRead) {
        st.skipped_old = span - i + 1;
        span = i - 1;
        tail = (head - span) & kDescIdMask;
        break;
      }
    }
  }

  std::vector<std::uint8_t> text;
  for (std::uint64_t i = 0; i <= span && out.ok(); ++i) {
    const std::uint64_t id = (tail + i) & kDescIdMask;
    if (!cache.load(id & (count - 1))) {
      ++st.skipped_unreadable;
      if (cache.hopeless()) {
        st.walk_cut_short = true;
        break;
      }
      continue;
    }
    const std::uint8_t* d = cache.desc();
    const std::uint64_t sv = load_field<std::uint64_t>(d, L.desc_state + L.counter);
    const std::uint64_t state = sv >> 62;
    // Another id (recycled slot) or reserved/reusable: not a readable record, not damage.
    if ((sv & kDescIdMask) != id || (state != kDescCommitted && state != kDescFinalized))
      continue;

    // Logical positions count bytes ever written; lpos >> size_bits is the wrap number.
    const std::uint64_t begin = load_field<std::uint64_t>(d, L.desc_lpos + L.lpos_begin);
    const std::uint64_t next = load_field<std::uint64_t>(d, L.desc_lpos + L.lpos_next);
    if (begin == next)
      continue; // data-less record (FAILED_LPOS / NO_LPOS)
    auto b = text_block(begin, next, size_bits);
    if (!b) {
      ++st.skipped_corrupt;
      continue;
    }
    const std::uint64_t block_len = b->len;
    const std::uint64_t start = b->offset + kWord;
    const std::uint8_t* inf = cache.info();
    // text_len larger than the block: a truncated record; print what the block holds.
    const std::uint64_t len =
        std::min<std::uint64_t>(load_field<std::uint16_t>(inf, L.info_text_len), block_len - kWord);
    text.resize(len);
    if (len > 0 && !mem.read_virt(data + start, text.data(), len)) {
      ++st.skipped_unreadable;
      continue;
    }
    append_record(out, load_field<std::uint64_t>(inf, L.info_ts), text.data(), len);
    ++st.records;
  }
  return out.flush();
}

// ---------------------------------------------------------------------------------------------
// log_buf (< 5.10).

struct LogBuf {
  std::uint64_t addr = 0;
  std::uint64_t len = 0;
};

Result<LogBuf> read_log_buf(KernelMemory& mem, std::uint64_t sym_log_buf,
                            std::uint64_t sym_log_buf_len) {
  auto addr =
      CK_TRY_CONTEXT(mem.read_u64(sym_log_buf), "dmesg: read log_buf at " + hex(sym_log_buf));
  // int (2.6) or u32 (3.x+); both read as 32 bits.
  auto len = CK_TRY_CONTEXT(mem.read_u32(sym_log_buf_len),
                            "dmesg: read log_buf_len at " + hex(sym_log_buf_len));
  if (len == 0 || len > kMaxLogBufLen) {
    return data_error("log_buf_len " + std::to_string(len) + " outside 1.." +
                      std::to_string(kMaxLogBufLen));
  }
  return LogBuf{addr, len};
}

// log_buf read kLogWindow bytes at a time: records are parsed from the window that holds them,
// never from a copy of the whole buffer.
class LogWindow {
public:
  LogWindow(KernelMemory& mem, std::uint64_t addr, std::uint64_t len)
      : mem_(mem), addr_(addr), len_(len), buf_(std::min(len, kLogWindow)) {}

  /// The n bytes (n <= kLogWindow) at offset off of log_buf; off + n <= len.
  Result<const std::uint8_t*> at(std::uint64_t off, std::uint64_t n) {
    if (!(valid_ && off >= start_ && off + n <= start_ + filled_)) {
      valid_ = false;
      start_ = off;
      filled_ = std::min<std::uint64_t>(buf_.size(), len_ - off);
      CK_TRY_CONTEXT(mem_.read_virt(addr_ + off, buf_.data(), filled_),
                     "dmesg: read log_buf at " + hex(addr_ + off));
      valid_ = true;
    }
    return buf_.data() + (off - start_);
  }

private:
  KernelMemory& mem_;
  std::uint64_t addr_, len_;
  std::vector<std::uint8_t> buf_;
  std::uint64_t start_ = 0, filled_ = 0;
  bool valid_ = false;
};

// < 3.5: log_buf is plain text and log_end a running count of characters ever written (masked
// into the buffer). makedumpfile writes the buffer out unchanged, oldest byte first.
Status dump_plain(KernelMemory& mem, const Vmcoreinfo& info, TextOut& out, DmesgStats& st) {
  LayoutKeys k(info);
  const std::uint64_t sym_buf = k.symbol("log_buf");
  const std::uint64_t sym_len = k.symbol("log_buf_len");
  const std::uint64_t sym_end = k.symbol("log_end");
  CK_TRY(k.check("dmesg: log_buf (plain)"));
  auto lb = CK_TRY(read_log_buf(mem, sym_buf, sym_len));

  // log_end was `unsigned long` up to 2.6.24 and `unsigned` from 2.6.25 on.
  const std::uint32_t ver = info.kernel_version();
  const bool long_end = ver != 0 && ver < ((2U << 16) | (6U << 8) | 25U);
  std::uint64_t log_end = 0;
  if (long_end) {
    auto v = CK_TRY_CONTEXT(mem.read_u64(sym_end), "dmesg: read log_end at " + hex(sym_end));
    log_end = v;
  } else {
    auto v = CK_TRY_CONTEXT(mem.read_u32(sym_end), "dmesg: read log_end at " + hex(sym_end));
    log_end = v;
  }

  // The text oldest first as (offset, length) pieces of log_buf. The kernel masks with
  // log_buf_len - 1 (always a power of two); % is the same then and stays in bounds if not.
  std::pair<std::uint64_t, std::uint64_t> pieces[2] = {{0, log_end}, {0, 0}};
  if (log_end >= lb.len) {
    const std::uint64_t idx = log_end % lb.len;
    pieces[0] = {idx, lb.len - idx};
    pieces[1] = {0, idx};
  }
  // Only the newest kMaxLogRead bytes.
  std::uint64_t skip = pieces[0].second + pieces[1].second > kMaxLogRead
                           ? pieces[0].second + pieces[1].second - kMaxLogRead
                           : 0;
  st.skipped_old = skip;
  LogWindow win(mem, lb.addr, lb.len);
  for (auto [off, n] : pieces) {
    const std::uint64_t drop = std::min(skip, n);
    skip -= drop;
    for (std::uint64_t at = off + drop; at < off + n && out.ok();) {
      const std::uint64_t chunk = std::min(kLogWindow, off + n - at);
      auto p = CK_TRY(win.at(at, chunk));
      out.append(reinterpret_cast<const char*>(p), chunk);
      at += chunk;
    }
  }
  return out.flush();
}

// 3.5–5.9: log_buf holds variable-length records: a struct printk_log header (named `struct
// log` until 3.11) followed by text and dict; a header with len 0 marks the end of the used
// part of the buffer and the walk continues at offset 0.
Status dump_records(KernelMemory& mem, const Vmcoreinfo& info, TextOut& out, DmesgStats& st) {
  const std::string type = info.size("printk_log") || !info.size("log") ? "printk_log" : "log";
  LayoutKeys k(info);
  const std::uint64_t sym_buf = k.symbol("log_buf");
  const std::uint64_t sym_len = k.symbol("log_buf_len");
  const std::uint64_t sym_first = k.symbol("log_first_idx");
  const std::uint64_t sym_next = k.symbol("log_next_idx");
  const std::uint64_t hdr = k.size(type);
  const std::uint64_t off_ts = k.offset(type + ".ts_nsec");
  const std::uint64_t off_len = k.offset(type + ".len");
  const std::uint64_t off_text_len = k.offset(type + ".text_len");
  const std::string what = "log_buf records";
  CK_TRY(k.check("dmesg: " + what));
  k.fits(off_ts, 8, hdr, type + ".ts_nsec");
  k.fits(off_len, 2, hdr, type + ".len");
  k.fits(off_text_len, 2, hdr, type + ".text_len");
  CK_TRY(k.check("dmesg: " + what));

  auto lb = CK_TRY(read_log_buf(mem, sym_buf, sym_len));
  auto first =
      CK_TRY_CONTEXT(mem.read_u32(sym_first), "dmesg: read log_first_idx at " + hex(sym_first));
  auto next =
      CK_TRY_CONTEXT(mem.read_u32(sym_next), "dmesg: read log_next_idx at " + hex(sym_next));
  if (first >= lb.len || next >= lb.len) {
    return data_error("log_first_idx " + hex(first) + " / log_next_idx " + hex(next) +
                      " outside the " + std::to_string(lb.len) + "-byte log_buf");
  }

  LogWindow win(mem, lb.addr, lb.len);
  const std::uint64_t len = lb.len;
  // Ring bytes from a record to log_next_idx: records further back than kMaxLogRead are walked
  // (their lengths lead to the next) but not read out.
  auto to_next = [&](std::uint64_t rec) { return rec <= next ? next - rec : len - rec + next; };
  // Every record is at least a header long, so a sound walk takes fewer steps than this.
  const std::uint64_t max_steps = len / hdr + 2;
  std::uint64_t idx = first;
  for (std::uint64_t steps = 0; idx != next && steps < max_steps && hdr <= len && out.ok();
       ++steps) {
    std::uint64_t rec = idx;
    if (rec + hdr > len)
      break;
    auto h = CK_TRY(win.at(rec, hdr));
    std::uint64_t rec_len = load_field<std::uint16_t>(h, off_len);
    if (rec_len == 0) { // end-of-buffer marker: the record is at the start
      rec = 0;
      h = CK_TRY(win.at(0, hdr));
      rec_len = load_field<std::uint16_t>(h, off_len);
    }
    // A broken length leaves no way to find the next record.
    if (rec_len < hdr || rec + rec_len > len)
      break;
    idx = rec + rec_len;
    if (to_next(rec) > kMaxLogRead) {
      ++st.skipped_old;
      continue;
    }
    auto p = CK_TRY(win.at(rec, rec_len)); // rec_len is a u16: within one window
    const std::uint64_t text_len =
        std::min<std::uint64_t>(load_field<std::uint16_t>(p, off_text_len), rec_len - hdr);
    append_record(out, load_field<std::uint64_t>(p, off_ts), p + hdr, text_len);
    ++st.records;
  }
  if (idx != next && out.ok()) {
    st.walk_cut_short = true;
    ++st.skipped_corrupt;
  }
  return out.flush();
}

} // namespace

Status write_dmesg(KernelMemory& mem, const Vmcoreinfo& info, const DmesgSink& sink,
                   DmesgStats& stats) {
  stats = DmesgStats{};
  TextOut out(sink);
  if (info.symbol("prb")) {
    stats.layout = DmesgStats::Layout::lockless;
    return dump_lockless(mem, info, out, stats);
  }
  if (!info.symbol("log_buf")) {
    return Error(ErrorCategory::unsupported,
                 "dmesg: VMCOREINFO has neither SYMBOL(prb) (printk ring buffer, 5.10+) nor "
                 "SYMBOL(log_buf) (older kernels)");
  }
  if (info.symbol("log_end")) {
    stats.layout = DmesgStats::Layout::plain;
    return dump_plain(mem, info, out, stats);
  }
  stats.layout = DmesgStats::Layout::variable_records;
  return dump_records(mem, info, out, stats);
}

Result<std::string> extract_dmesg(KernelMemory& mem, const Vmcoreinfo& info, DmesgStats& stats) {
  std::string text;
  CK_TRY(write_dmesg(
      mem, info,
      [&](std::string_view piece) {
        text.append(piece);
        return Status{};
      },
      stats));
  return text;
}

Result<std::string> extract_dmesg(KernelMemory& mem, const Vmcoreinfo& info) {
  DmesgStats stats;
  return extract_dmesg(mem, info, stats);
}

Result<SavedDmesg> save_dmesg(KernelMemory& mem, const Vmcoreinfo& info, const std::string& path,
                              bool force) {
  // Created with the first text: a log that cannot be located leaves no file behind.
  std::unique_ptr<FileSink> file;
  auto open = [&]() -> Status {
    if (file)
      return {};
    file = CK_TRY(FileSink::create(path, force));
    return {};
  };
  SavedDmesg saved;
  auto to_file = [&](std::string_view piece) -> Status {
    CK_TRY(open());
    CK_TRY(file->write_at(saved.bytes, piece.data(), piece.size()));
    saved.bytes += piece.size();
    saved.tail.append(piece);
    if (saved.tail.size() > 2 * kSavedDmesgTail)
      saved.tail.erase(0, saved.tail.size() - kSavedDmesgTail);
    return {};
  };
  // On error, path.incomplete keeps what was written.
  CK_TRY(write_dmesg(mem, info, to_file, saved.stats));
  CK_TRY(open());
  CK_TRY(file->finish());
  if (saved.tail.size() > kSavedDmesgTail)
    saved.tail.erase(0, saved.tail.size() - kSavedDmesgTail);
  return saved;
}

} // namespace crashkit::capture
