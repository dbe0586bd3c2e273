#pragma once
/// Identical-page sharing for the kdump format: a page_desc holds an absolute payload offset,
/// so any number of descriptors may point at one payload (the format already does this for
/// the zero page). The table maps a page's 64-bit content hash to the payload of the first
/// page written with that content. It is direct-mapped and bounded (memory in the capture
/// kernel is small) and used by the writer thread only, in output order, which keeps the
/// output identical whatever the thread count (workers only compute the hashes). A hash match
/// is never trusted alone: the page contents are compared before a payload is shared.
/// Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace crashkit::capture {

struct DedupEntry {
  std::uint64_t hash = 0;
  std::uint64_t pfn = ~0ULL; ///< page whose content the payload holds
  std::uint64_t offset = 0;  ///< payload file offset
  std::uint32_t size = 0;
  std::uint32_t flags = 0;
};

class DedupTable {
public:
  /// 2^log2_entries slots of 32 bytes.
  explicit DedupTable(unsigned log2_entries) : mask_((1ULL << log2_entries) - 1) {
    slots_.resize(mask_ + 1);
  }
  std::optional<DedupEntry> find(std::uint64_t hash) const {
    const DedupEntry& e = slots_[hash & mask_];
    if (e.pfn == ~0ULL || e.hash != hash)
      return std::nullopt;
    return e;
  }
  void insert(const DedupEntry& e) { slots_[e.hash & mask_] = e; }

private:
  std::uint64_t mask_;
  std::vector<DedupEntry> slots_;
};

/// 64-bit content hash of a page (XXH3).
std::uint64_t page_hash(const std::uint8_t* p, std::size_t n);

} // namespace crashkit::capture
