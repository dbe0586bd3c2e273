#include "direct_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "crashkit/base/io.hpp"

namespace crashkit::capture {
namespace {

// 4096 covers the logical block size of every disk we write to; a device that wants more
// fails the O_DIRECT write with EINVAL and we fall back to buffered writes.
constexpr std::uint64_t kAlign = 4096;
constexpr std::size_t kStage = 1u << 20; // whole blocks go out when this much is staged
constexpr std::size_t kMaxRegions = 4;
// Writes smaller than this that do not continue a stream go straight to the buffered fd.
constexpr std::size_t kSmallWrite = 64u << 10;

struct FreeDeleter {
  void operator()(std::uint8_t* p) const { std::free(p); }
};

} // namespace

struct DirectWriter::Region {
  std::uint64_t base = 0; // aligned file offset of buf[0]
  std::size_t skip = 0;   // bytes of buf before the first byte we own (unaligned start)
  std::size_t len = 0;    // bytes of buf in use (including skip)
  std::uint64_t last_use = 0;
  std::unique_ptr<std::uint8_t, FreeDeleter> buf;
  std::uint64_t next_off() const { return base + len; }
};

DirectWriter::DirectWriter(int buffered_fd, int direct_fd, std::string path)
    : bfd_(buffered_fd), dfd_(direct_fd), path_(std::move(path)) {}

DirectWriter::~DirectWriter() = default;

Status DirectWriter::write_buffered(std::uint64_t off, const void* data, std::size_t len) {
  return pwrite_full(bfd_, data, len, off, path_);
}

Status DirectWriter::write_direct(std::uint64_t off, const std::uint8_t* data, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::pwrite(dfd_, data, len, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EINVAL) {
        dfd_ = -1; // alignment not accepted after all: stay buffered from now on
        return write_buffered(off, data, len);
      }
      return Error::from_errno(errno, "write").with_path(path_).with_offset(off);
    }
    // A short direct write leaves an aligned remainder only if n is aligned; otherwise finish
    // through the page cache.
    if (static_cast<std::uint64_t>(n) % kAlign != 0)
      return write_buffered(off + static_cast<std::uint64_t>(n), data + n,
                            len - static_cast<std::size_t>(n));
    off += static_cast<std::uint64_t>(n);
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return {};
}

Status DirectWriter::flush_region(Region& r, bool everything) {
  const std::uint8_t* p = r.buf.get();
  std::size_t start = r.skip;
  // The first block holds bytes we do not own: write our part of it through the page cache.
  if (start % kAlign != 0) {
    const std::size_t head_end = std::min(r.len, (start / kAlign + 1) * kAlign);
    if (!everything && head_end != (start / kAlign + 1) * kAlign)
      return {};
    CK_TRY(write_buffered(r.base + start, p + start, head_end - start));
    start = head_end;
  }
  const std::size_t aligned_end = r.len / kAlign * kAlign;
  if (aligned_end > start) {
    if (dfd_ >= 0)
      CK_TRY(write_direct(r.base + start, p + start, aligned_end - start));
    else
      CK_TRY(write_buffered(r.base + start, p + start, aligned_end - start));
    start = aligned_end;
  }
  if (everything && r.len > start) {
    CK_TRY(write_buffered(r.base + start, p + start, r.len - start));
    start = r.len;
  }
  // Keep the unwritten tail (less than one block) at the front of the buffer.
  const std::size_t keep_from = start / kAlign * kAlign;
  const std::size_t tail = r.len - keep_from;
  if (keep_from > 0 && tail > 0)
    std::memmove(r.buf.get(), p + keep_from, tail);
  r.base += keep_from;
  r.skip = start - keep_from;
  r.len = tail;
  if (everything)
    r.len = r.skip = 0;
  return {};
}

Status DirectWriter::write_at(std::uint64_t off, const void* data, std::size_t len) {
  const auto* src = static_cast<const std::uint8_t*>(data);
  ++tick_;
  // A write overlapping staged bytes must land after them: flush those regions first.
  for (auto& r : regions_) {
    if (r->len == r->skip)
      continue;
    const std::uint64_t a = r->base + r->skip, b = r->next_off();
    if (off < b && off + len > a && off != b)
      CK_TRY(flush_region(*r, true));
  }
  Region* cont = nullptr;
  for (auto& r : regions_)
    if (r->len > r->skip && r->next_off() == off)
      cont = r.get();
  if (!cont) {
    if (len < kSmallWrite || dfd_ < 0)
      return write_buffered(off, src, len);
    if (regions_.size() >= kMaxRegions) {
      auto lru =
          std::min_element(regions_.begin(), regions_.end(),
                           [](const auto& x, const auto& y) { return x->last_use < y->last_use; });
      CK_TRY(flush_region(**lru, true));
      regions_.erase(lru);
    }
    auto r = std::make_unique<Region>();
    void* mem = nullptr;
    if (posix_memalign(&mem, kAlign, kStage + 2 * kAlign) != 0)
      return Error(ErrorCategory::internal, "out of memory for the write buffer");
    r->buf.reset(static_cast<std::uint8_t*>(mem));
    r->base = off / kAlign * kAlign;
    r->skip = r->len = static_cast<std::size_t>(off - r->base);
    regions_.push_back(std::move(r));
    cont = regions_.back().get();
  }
  cont->last_use = tick_;
  while (len > 0) {
    const std::size_t room = kStage + 2 * kAlign - cont->len;
    const std::size_t n = std::min(room, len);
    std::memcpy(cont->buf.get() + cont->len, src, n);
    cont->len += n;
    src += n;
    len -= n;
    if (cont->len >= kStage)
      CK_TRY(flush_region(*cont, false));
  }
  return {};
}

Status DirectWriter::flush_all() {
  // Every region, even after a failure: a full disk may still take the bytes that land in
  // blocks already allocated (the preallocated descriptor table).
  Status first;
  for (auto& r : regions_) {
    auto st = flush_region(*r, true);
    if (!st && first)
      first = std::move(st);
  }
  regions_.clear();
  return first;
}

} // namespace crashkit::capture
