#pragma once
/// A bitmap over a window of PFNs [base, base+count), bit order as the kdump format stores it
/// (PFN p is bit p%8 of byte p/8, i.e. little-endian 64-bit words).

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

namespace crashkit::capture {

class Bitmap {
public:
  void reset(std::uint64_t base, std::uint64_t count) {
    base_ = base;
    count_ = count;
    words_.assign((count + 63) / 64, 0);
  }
  std::uint64_t base() const { return base_; }
  std::uint64_t count() const { return count_; }
  bool test(std::uint64_t pfn) const {
    const std::uint64_t i = pfn - base_;
    return (words_[i / 64] >> (i % 64)) & 1;
  }
  void set(std::uint64_t pfn) {
    const std::uint64_t i = pfn - base_;
    words_[i / 64] |= 1ULL << (i % 64);
  }
  void clear(std::uint64_t pfn) {
    const std::uint64_t i = pfn - base_;
    words_[i / 64] &= ~(1ULL << (i % 64));
  }
  /// Sets bits [from, to) (absolute PFNs, inside the window).
  void set_range(std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t p = from; p < to;) {
      const std::uint64_t i = p - base_;
      if (i % 64 == 0 && to - p >= 64) {
        words_[i / 64] = ~0ULL;
        p += 64;
      } else {
        set(p);
        ++p;
      }
    }
  }
  std::uint64_t popcount() const {
    std::uint64_t n = 0;
    for (auto w : words_)
      n += static_cast<std::uint64_t>(std::popcount(w));
    return n;
  }
  /// Clears bits [from, to) (absolute PFNs, clipped to the window).
  void clear_range(std::uint64_t from, std::uint64_t to) {
    from = std::max(from, base_);
    to = std::min(to, base_ + count_);
    for (std::uint64_t p = from; p < to;) {
      const std::uint64_t i = p - base_;
      if (i % 64 == 0 && to - p >= 64) {
        words_[i / 64] = 0;
        p += 64;
      } else {
        clear(p);
        ++p;
      }
    }
  }
  /// this &= other, or this &= ~other with invert (same window).
  void intersect(const Bitmap& other, bool invert = false) {
    for (std::size_t k = 0; k < words_.size(); ++k)
      words_[k] &= invert ? ~other.words_[k] : other.words_[k];
  }
  /// Number of set bits in [from, to).
  std::uint64_t count_range(std::uint64_t from, std::uint64_t to) const {
    std::uint64_t n = 0;
    for (std::uint64_t p = from; p < to;) {
      const std::uint64_t i = p - base_;
      if (i % 64 == 0 && to - p >= 64) {
        n += static_cast<std::uint64_t>(std::popcount(words_[i / 64]));
        p += 64;
      } else {
        n += test(p);
        ++p;
      }
    }
    return n;
  }
  /// First set bit at or after pfn, or base+count when none.
  std::uint64_t next_set(std::uint64_t pfn) const {
    std::uint64_t i = pfn - base_;
    while (i < count_) {
      const std::uint64_t w = words_[i / 64] >> (i % 64);
      if (w) {
        i += static_cast<std::uint64_t>(std::countr_zero(w));
        return i < count_ ? base_ + i : base_ + count_;
      }
      i = (i / 64 + 1) * 64;
    }
    return base_ + count_;
  }
  /// The window's bytes in file order ((count+7)/8 bytes).
  const std::uint8_t* bytes() const { return reinterpret_cast<const std::uint8_t*>(words_.data()); }
  std::uint64_t byte_size() const { return (count_ + 7) / 8; }
  const std::vector<std::uint64_t>& words() const { return words_; }

private:
  std::uint64_t base_ = 0;
  std::uint64_t count_ = 0;
  std::vector<std::uint64_t> words_;
};

} // namespace crashkit::capture
