#include "crashkit/capture/page_filter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>

namespace crashkit::capture {
namespace {

// struct pages read per request: 4096 × 64 B = 256 KiB of vmemmap, usually one pread.
constexpr std::uint64_t kStructChunk = 4096;

} // namespace

Result<std::unique_ptr<PageFilter>> PageFilter::create(const VmcoreFile& core,
                                                       const Vmcoreinfo& info, KernelMemory* mem,
                                                       int dump_level,
                                                       std::vector<std::string>& warnings) {
  std::unique_ptr<PageFilter> f(new PageFilter());
  f->core_ = &core;
  f->mem_ = mem;
  if (auto ps = info.page_size()) {
    if (!std::has_single_bit(*ps) || *ps < 4096 || *ps > (1u << 16))
      return Error(ErrorCategory::data,
                   "VMCOREINFO PAGESIZE=" + std::to_string(*ps) + " is not a supported page size");
    f->page_size_ = *ps;
  }
  f->page_shift_ = static_cast<unsigned>(std::countr_zero(f->page_size_));
  std::uint64_t max_end = 0;
  for (const auto& s : core.loads())
    max_end = std::max(max_end, s.paddr + s.memsz);
  f->max_mapnr_ = (max_end + f->page_size_ - 1) >> f->page_shift_;
  // Bitmaps are sized per cycle, so a small machine gets small cycles: a capture kernel in a
  // 96M reservation cannot spare the 1 MiB per bitmap that 2^23-PFN cycles cost. Never below
  // 2^18 PFNs, so no 1 GiB huge page or buddy block crosses a cycle.
  while (f->cycle_ > (1ULL << 18) && (f->cycle_ >> 1) >= f->max_mapnr_)
    f->cycle_ >>= 1;

  f->classifier_ =
      std::make_unique<PageClassifier>(PageClassifier::create(info, dump_level, warnings));
  f->level_ = f->classifier_->effective_level();
  if (f->classifier_->needs_scan()) {
    if (!mem) {
      warnings.push_back("kernel memory cannot be translated: only zero pages are excluded");
      f->level_ &= kExcludeZero;
    } else {
      const ArchInfo* arch = arch_for_machine(core.identity().machine);
      auto mm = arch ? MemMap::create(*mem, *arch, info, f->max_mapnr_, f->page_shift_)
                     : Result<MemMap>(Error(ErrorCategory::unsupported,
                                            "no SPARSEMEM layout for e_machine " +
                                                std::to_string(core.identity().machine)));
      if (!mm) {
        warnings.push_back(mm.error().message() + ": only zero pages are excluded");
        f->level_ &= kExcludeZero;
      } else {
        f->mem_map_ = std::make_unique<MemMap>(std::move(mm).value());
        std::vector<std::string> ignored; // the real classifier already warned
        f->importance_ = std::make_unique<PageClassifier>(
            PageClassifier::create(info, 31 & ~kExcludeZero, ignored));
      }
    }
  }
  return f;
}

Status PageFilter::build(std::uint64_t begin, std::uint64_t end, Bitmap& ram, Bitmap& dumpable,
                         ClassCounts* counts, std::vector<std::string>* warnings,
                         Bitmap* important) {
  // Writers build the same cycle several times (count, then write in phases); on machines up
  // to 32 GiB that is one cycle, so keep the last result instead of scanning again.
  const bool hit = memo_.valid && memo_.begin == begin && memo_.end == end &&
                   (!important || memo_.has_important);
  if (!hit) {
    memo_ = Memo{};
    CK_TRY(compute(begin, end, important != nullptr));
  }
  ram = memo_.ram;
  dumpable = memo_.dumpable;
  if (important)
    *important = memo_.important;
  if (counts)
    *counts += memo_.counts;
  if (warnings)
    warnings->insert(warnings->end(), memo_.warnings.begin(), memo_.warnings.end());
  return {};
}

Status PageFilter::compute(std::uint64_t begin, std::uint64_t end, bool want_important) {
  Memo& m = memo_;
  m.ram.reset(begin, end - begin);
  // RAM: every page that a PT_LOAD touches (a partial page at a segment edge included; its
  // missing bytes read as zero).
  for (const auto& s : core_->loads()) {
    std::uint64_t first = s.paddr >> page_shift_;
    std::uint64_t last = (s.paddr + s.memsz + page_size_ - 1) >> page_shift_;
    first = std::max(first, begin);
    last = std::min(last, end);
    if (first < last)
      m.ram.set_range(first, last);
  }
  m.dumpable = m.ram;
  if (want_important)
    m.important = m.ram;
  if (mem_map_ && classifier_->needs_scan()) {
    CK_TRY(scan(*classifier_, begin, end, m.ram, m.dumpable, &m.counts, &m.warnings));
    if (want_important && importance_) {
      if (!importance_differs())
        m.important = m.dumpable; // same classification: no second scan
      else
        CK_TRY(scan(*importance_, begin, end, m.ram, m.important, nullptr, nullptr));
    }
  }
  m.begin = begin;
  m.end = end;
  m.has_important = want_important;
  m.valid = true;
  return {};
}

Status PageFilter::scan(const PageClassifier& cls, std::uint64_t begin, std::uint64_t end,
                        const Bitmap& ram, Bitmap& dumpable, ClassCounts* counts,
                        std::vector<std::string>* warnings) {
  const std::uint64_t ssize = cls.layout().struct_size;
  chunk_buf_.resize((kStructChunk + 1) * ssize);
  const std::uint64_t pps = mem_map_->pages_per_section();
  std::uint64_t skip_until = begin;
  std::uint64_t bad_chunks_in_scan = 0;
  for (std::uint64_t chunk = begin; chunk < end; chunk += kStructChunk) {
    const std::uint64_t cend = std::min(end, chunk + kStructChunk);
    std::uint64_t first_ram = ram.next_set(chunk);
    if (first_ram >= cend)
      continue;
    if (cend <= skip_until)
      continue;
    auto sp = mem_map_->struct_page(chunk);
    if (!sp)
      continue; // no mem_map: nothing known, keep
    // One extra struct page so a head at the chunk end still sees its first tail; never past
    // the section, whose mem_map may be elsewhere.
    const std::uint64_t sec_end = (chunk / pps + 1) * pps;
    const std::uint64_t n = cend - chunk;
    const std::uint64_t nread = std::min<std::uint64_t>(n + 1, sec_end - chunk);
    auto st = mem_->read_virt(*sp, chunk_buf_.data(), nread * ssize);
    if (!st) {
      // Keep the pages: excluding what we cannot see would be the worst outcome.
      if (bad_chunks_in_scan++ == 0 && warnings)
        warnings->push_back("struct pages for PFN " + std::to_string(chunk) +
                            " unreadable, pages kept: " + st.error().message());
      ++bad_chunks_;
      continue;
    }
    for (std::uint64_t pfn = std::max(chunk, skip_until); pfn < cend; ++pfn) {
      if (!ram.test(pfn))
        continue;
      const std::uint64_t i = pfn - chunk;
      const std::uint8_t* tail = i + 1 < nread ? chunk_buf_.data() + (i + 1) * ssize : nullptr;
      PageDecision d = cls.classify(chunk_buf_.data() + i * ssize, tail, pfn);
      if (d.cls == PageClass::keep || d.cls == PageClass::tail)
        continue;
      std::uint64_t* ctr = nullptr;
      if (counts) {
        switch (d.cls) {
        case PageClass::cache:
          ctr = &counts->cache;
          break;
        case PageClass::cache_private:
          ctr = &counts->cache_private;
          break;
        case PageClass::user:
          ctr = &counts->user;
          break;
        case PageClass::free:
        case PageClass::unaccepted:
          ctr = &counts->free;
          break;
        case PageClass::hwpoison:
          ctr = &counts->hwpoison;
          break;
        case PageClass::offline:
          ctr = &counts->offline;
          break;
        default:
          break;
        }
      }
      const std::uint64_t stop = std::min(end, pfn + d.nr_pages);
      for (std::uint64_t p = pfn; p < stop; ++p) {
        if (dumpable.test(p)) {
          dumpable.clear(p);
          if (ctr)
            ++*ctr;
        }
      }
      if (d.nr_pages > 1) {
        skip_until = pfn + d.nr_pages;
        if (skip_until > cend)
          break;
        pfn = skip_until - 1;
      }
    }
  }
  return {};
}

} // namespace crashkit::capture
