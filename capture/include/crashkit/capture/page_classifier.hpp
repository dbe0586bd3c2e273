#pragma once
/// Decides, from one struct page (and its first tail page), which dump-level class a page
/// belongs to. Every offset, flag bit and page-type value comes from VMCOREINFO; where kernels
/// changed an encoding (page types 4.18/6.12, slab 6.10, hugetlb 6.6/6.9, folio order 6.3) each
/// variant is recognised by the keys the kernel exported.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

/// makedumpfile's dump level bits.
enum DumpLevelBit : int {
  kExcludeZero = 1,
  kExcludeCacheNonPrivate = 2,
  kExcludeCachePrivate = 4,
  kExcludeUser = 8,
  kExcludeFree = 16,
};

enum class PageClass : std::uint8_t {
  keep,
  tail,          ///< compound tail: its head decided for the whole range
  cache,         ///< page cache without private data
  cache_private, ///< page cache with private data (buffer heads)
  user,          ///< anonymous or hugetlbfs
  free,          ///< buddy allocator free block
  unaccepted,    ///< CoCo unaccepted memory (counted with free)
  hwpoison,      ///< memory-failure poisoned: reading it may machine-check
  offline,       ///< logically offline (balloon, virtio-mem, hot-unplug)
};

struct PageDecision {
  PageClass cls = PageClass::keep;
  std::uint64_t nr_pages = 1; ///< pages starting at this pfn that share the decision
};

/// Where the struct page fields are and what the flag/type values mean for this kernel.
struct PageLayout {
  std::uint64_t struct_size = 0;
  std::int64_t off_flags = -1, off_mapping = -1, off_mapcount = -1, off_private = -1,
               off_compound_head = -1;
  std::optional<std::int64_t> pg_lru, pg_private, pg_swapcache, pg_swapbacked, pg_slab, pg_hwpoison,
      pg_hugetlb, pg_buddy;
  std::optional<std::uint64_t> pg_head_mask;
  std::optional<std::uint32_t> buddy_value, offline_value, slab_value, hugetlb_value,
      unaccepted_value;
  // Compound order / hugetlb dtor in the first tail page.
  enum class OrderSource { none, page_field_u16, page_field_u8, tail_flags_low_byte };
  OrderSource order_source = OrderSource::none;
  std::int64_t off_order_in_tail = -1; ///< byte offset in the tail struct page
  std::int64_t off_dtor_in_tail = -1;
  std::optional<std::int64_t> hugetlb_dtor;
  std::uint64_t max_order = 11; ///< LENGTH(zone.free_area)
};

class PageClassifier {
public:
  /// Builds the layout and reduces `requested_level` to what the keys allow. Each warning names
  /// the missing keys and the classes that will therefore be kept.
  static PageClassifier create(const Vmcoreinfo& info, int requested_level,
                               std::vector<std::string>& warnings);

  /// The dump level that will really be applied.
  int effective_level() const { return level_; }
  /// True when struct pages must be scanned at all.
  bool needs_scan() const { return scan_; }
  const PageLayout& layout() const { return lay_; }

  /// Classifies the page whose struct page is `sp`; `tail` is the next struct page (head+1) or
  /// nullptr when unavailable. pfn is used to validate compound alignment. Thread-safe.
  PageDecision classify(const std::uint8_t* sp, const std::uint8_t* tail, std::uint64_t pfn) const;

private:
  PageLayout lay_;
  int level_ = 0;
  bool scan_ = false;
  bool can_hwpoison_ = false;
  bool can_offline_ = false;
};

} // namespace crashkit::capture
