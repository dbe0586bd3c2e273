#include "crashkit/loader/segment_plan.hpp"
#include "crashkit/base/hex.hpp"

#include <algorithm>
#include <cstdio>

namespace crashkit::loader {
namespace {

std::uint64_t page_up(std::uint64_t v) {
  return (v + kPageSize - 1) & ~(kPageSize - 1);
}

// Free space as half-open [start, end) intervals, sorted.
struct Hole {
  std::uint64_t start;
  std::uint64_t end;
};

class FreeList {
public:
  FreeList(std::uint64_t start, std::uint64_t end) { holes_.push_back({start, end}); }

  void take(std::uint64_t a, std::uint64_t size) {
    std::vector<Hole> next;
    for (const auto& h : holes_) {
      if (a + size <= h.start || a >= h.end) {
        next.push_back(h);
        continue;
      }
      if (a > h.start)
        next.push_back({h.start, a});
      if (a + size < h.end)
        next.push_back({a + size, h.end});
    }
    holes_ = std::move(next);
  }

  // Lowest address >= min, aligned, with [a, a+size) free.
  std::optional<std::uint64_t> lowest(std::uint64_t size, std::uint64_t align,
                                      std::uint64_t min) const {
    for (const auto& h : holes_) {
      std::uint64_t a = std::max(h.start, min);
      a = (a + align - 1) & ~(align - 1);
      if (a >= h.start && a < h.end && h.end - a >= size)
        return a;
    }
    return std::nullopt;
  }

  // Highest page-aligned address with [a, a+size) free and a + size <= limit.
  std::optional<std::uint64_t> highest(std::uint64_t size, std::uint64_t limit) const {
    for (auto it = holes_.rbegin(); it != holes_.rend(); ++it) {
      const std::uint64_t top = std::min(it->end, limit);
      if (top < it->start || top - it->start < size)
        continue;
      const std::uint64_t a = (top - size) & ~(kPageSize - 1);
      if (a >= it->start)
        return a;
    }
    return std::nullopt;
  }

  std::uint64_t free_bytes() const {
    std::uint64_t n = 0;
    for (const auto& h : holes_)
      n += h.end - h.start;
    return n;
  }
  std::uint64_t largest() const {
    std::uint64_t n = 0;
    for (const auto& h : holes_)
      n = std::max(n, h.end - h.start);
    return n;
  }

private:
  std::vector<Hole> holes_;
};

} // namespace

const char* segment_kind_name(SegmentKind k) {
  switch (k) {
  case SegmentKind::kernel:
    return "kernel";
  case SegmentKind::initrd:
    return "initrd";
  case SegmentKind::setup:
    return "boot_params+cmdline";
  case SegmentKind::elfcorehdr:
    return "elfcorehdr";
  case SegmentKind::purgatory:
    return "purgatory";
  }
  return "?";
}

std::optional<PlacedSegment> SegmentPlan::find(SegmentKind k) const {
  for (const auto& s : segments)
    if (s.kind == k)
      return s;
  return std::nullopt;
}

Result<SegmentPlan> plan_segments(const SegmentRequest& req) {
  const MemRange& c = req.crash;
  if (c.end < c.start || c.start % kPageSize != 0 || (c.end + 1) % kPageSize != 0)
    return Error(ErrorCategory::usage,
                 "crash range " + hex(c.start) + "-" + hex(c.end) + " is not a page-aligned range");
  const std::uint64_t align = req.kernel_alignment;
  if (align < kPageSize || (align & (align - 1)) != 0)
    return Error(ErrorCategory::usage,
                 "kernel alignment " + hex(align) + " is not a power of two >= 4 KiB");
  struct Want {
    SegmentKind kind;
    std::uint64_t size;
  };
  const Want wants[] = {{SegmentKind::kernel, req.kernel_memsz},
                        {SegmentKind::setup, req.setup_size},
                        {SegmentKind::elfcorehdr, req.elfcorehdr_size},
                        {SegmentKind::purgatory, req.purgatory_size}};
  for (const auto& w : wants)
    if (w.size == 0)
      return Error(ErrorCategory::usage,
                   std::string(segment_kind_name(w.kind)) + " segment of size 0");

  const std::uint64_t crash_end = c.end + 1; // c.end + 1 cannot wrap: it is page aligned
  FreeList free(c.start, crash_end);
  SegmentPlan plan;
  auto where = [&] {
    return "crash kernel memory " + hex(c.start) + "-" + hex(c.end) + " (" + human_size(c.size()) +
           "), " + human_size(free.free_bytes()) + " free, largest hole " +
           human_size(free.largest());
  };
  auto no_fit = [&](SegmentKind k, std::uint64_t size, const std::string& why) {
    return Error(ErrorCategory::unsupported, std::string(segment_kind_name(k)) + " segment of " +
                                                 human_size(size) + " (" + hex(size) +
                                                 ") does not fit " + why + "in " + where());
  };
  auto place = [&](SegmentKind k, std::uint64_t mem, std::uint64_t memsz) {
    free.take(mem, memsz);
    plan.segments.push_back({k, mem, memsz});
  };

  const std::uint64_t ksz = page_up(req.kernel_memsz);
  if (!req.kernel_relocatable) {
    const std::uint64_t a = req.kernel_pref_address;
    if (a < c.start || a >= crash_end || crash_end - a < ksz || a % kPageSize != 0)
      return no_fit(SegmentKind::kernel, ksz,
                    "at its fixed address " + hex(a) + " (kernel not relocatable) ");
    place(SegmentKind::kernel, a, ksz);
  } else {
    auto a = free.lowest(ksz, align, req.kernel_pref_address);
    if (!a)
      return no_fit(SegmentKind::kernel, ksz,
                    "at or above " + hex(req.kernel_pref_address) + " aligned to " + hex(align) +
                        " ");
    place(SegmentKind::kernel, *a, ksz);
  }

  if (req.initrd_size != 0) {
    const std::uint64_t isz = page_up(req.initrd_size);
    auto a = free.highest(isz, req.initrd_limit);
    if (!a)
      return no_fit(SegmentKind::initrd, isz,
                    req.initrd_limit == UINT64_MAX ? std::string()
                                                   : "below " + hex(req.initrd_limit) + " ");
    place(SegmentKind::initrd, *a, isz);
  }

  for (const auto& w : wants) {
    if (w.kind == SegmentKind::kernel)
      continue;
    const std::uint64_t sz = page_up(w.size);
    auto a = free.lowest(sz, kPageSize, c.start);
    if (!a)
      return no_fit(w.kind, sz, "");
    place(w.kind, *a, sz);
  }

  // kimage_alloc_crash_control_pages() needs one free page-aligned page in the reservation.
  if (!free.lowest(kPageSize, kPageSize, c.start))
    return Error(ErrorCategory::unsupported,
                 "no free page left for the kernel's kexec control page in " + where());

  std::sort(plan.segments.begin(), plan.segments.end(),
            [](const PlacedSegment& a, const PlacedSegment& b) { return a.mem < b.mem; });
  return plan;
}

} // namespace crashkit::loader
