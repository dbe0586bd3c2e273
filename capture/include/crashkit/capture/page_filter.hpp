#pragma once
/// Builds, one cycle of PFNs at a time, the two kdump bitmaps: RAM (inside a PT_LOAD) and
/// dumpable (RAM not excluded by the dump level). Zero pages are not decided here: the kdump
/// writer finds them while copying, the ELF writer asks exclude_zero_pages().

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crashkit/capture/bitmap.hpp"
#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/mem_map.hpp"
#include "crashkit/capture/page_classifier.hpp"
#include "crashkit/capture/vmcore_file.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

/// Pages excluded per class (makedumpfile's table).
struct ClassCounts {
  std::uint64_t zero = 0, cache = 0, cache_private = 0, user = 0, free = 0, hwpoison = 0,
                offline = 0;
  std::uint64_t total() const {
    return zero + cache + cache_private + user + free + hwpoison + offline;
  }
  ClassCounts& operator+=(const ClassCounts& o) {
    zero += o.zero;
    cache += o.cache;
    cache_private += o.cache_private;
    user += o.user;
    free += o.free;
    hwpoison += o.hwpoison;
    offline += o.offline;
    return *this;
  }
};

class PageFilter {
public:
  /// mem may be null (no translation possible): then only RAM/zero decisions are made.
  /// Warnings (missing keys, reduced level) are appended to `warnings`.
  static Result<std::unique_ptr<PageFilter>> create(const VmcoreFile& core, const Vmcoreinfo& info,
                                                    KernelMemory* mem, int dump_level,
                                                    std::vector<std::string>& warnings);

  std::uint64_t page_size() const { return page_size_; }
  unsigned page_shift() const { return page_shift_; }
  /// Number of PFNs the bitmaps cover (max physical end rounded up to a page).
  std::uint64_t max_mapnr() const { return max_mapnr_; }
  /// Level actually applied (requested level minus what VMCOREINFO cannot support).
  int dump_level() const { return level_; }
  /// PFNs per cycle: a power of two large enough that no buddy block or huge page crosses it.
  std::uint64_t cycle_pfns() const { return cycle_; }
  /// True when `important` (see build) can differ from dumpable: the level keeps some pages a
  /// level-31 filter would drop.
  bool importance_differs() const {
    return importance_ && classifier_ &&
           importance_->effective_level() != (classifier_->effective_level() & ~kExcludeZero);
  }
  /// struct-page chunks that could not be read (pages kept).
  std::uint64_t unreadable_struct_chunks() const { return bad_chunks_; }

  /// Fills ram and dumpable for [begin, end) (begin a multiple of cycle_pfns()). Counts excluded
  /// pages per class into counts (if non-null). With `important`, also marks the pages a
  /// full (level 31) filter would keep: the kernel's own data, which crash needs to start.
  /// Not thread-safe.
  Status build(std::uint64_t begin, std::uint64_t end, Bitmap& ram, Bitmap& dumpable,
               ClassCounts* counts, std::vector<std::string>* warnings = nullptr,
               Bitmap* important = nullptr);

private:
  PageFilter() = default;
  Status scan(const PageClassifier& cls, std::uint64_t begin, std::uint64_t end, const Bitmap& ram,
              Bitmap& out, ClassCounts* counts, std::vector<std::string>* warnings);
  const VmcoreFile* core_ = nullptr;
  KernelMemory* mem_ = nullptr;
  std::unique_ptr<PageClassifier> classifier_;
  std::unique_ptr<PageClassifier> importance_; // level 31: what crash needs first
  std::unique_ptr<MemMap> mem_map_;
  std::uint64_t page_size_ = 4096;
  unsigned page_shift_ = 12;
  std::uint64_t max_mapnr_ = 0;
  std::uint64_t cycle_ = 1ULL << 23;
  int level_ = 0;
  std::uint64_t bad_chunks_ = 0;
  std::vector<std::uint8_t> chunk_buf_;
  struct Memo {
    bool valid = false, has_important = false;
    std::uint64_t begin = 0, end = 0;
    Bitmap ram, dumpable, important;
    ClassCounts counts;
    std::vector<std::string> warnings;
  };
  Memo memo_;
  Status compute(std::uint64_t begin, std::uint64_t end, bool want_important);
};

} // namespace crashkit::capture
