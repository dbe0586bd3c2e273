#include "crashkit/capture/kdump_layout.hpp"

#include <algorithm>

#include "crashkit/capture/kdump_format.hpp"

namespace crashkit::capture {

std::uint64_t DumpableCount::before_cycle(std::uint64_t cycle) const {
  std::uint64_t n = 0;
  for (std::uint64_t k = 0; k < cycle && k < per_cycle.size(); ++k)
    n += per_cycle[k];
  return n;
}

Result<DumpableCount> count_dumpable(PageFilter& filter) {
  const std::uint64_t max_mapnr = filter.max_mapnr();
  const std::uint64_t cycle = filter.cycle_pfns();
  DumpableCount count;
  Bitmap ram, dumpable;
  for (std::uint64_t b = 0; b < max_mapnr; b += cycle) {
    CK_TRY(filter.build(b, std::min(max_mapnr, b + cycle), ram, dumpable, nullptr));
    count.per_cycle.push_back(dumpable.popcount());
    count.total += count.per_cycle.back();
  }
  return count;
}

KdumpLayout KdumpLayout::compute(std::uint64_t block_size, std::uint64_t notes_bytes,
                                 std::uint64_t max_mapnr, std::uint64_t dumpable_pages,
                                 bool share_zero) {
  const std::uint64_t B = block_size;
  KdumpLayout l;
  l.block_size = B;
  l.sub_hdr_blocks = (sizeof(kdump::KdumpSubHeader) + notes_bytes + B - 1) / B;
  l.bitmap_bytes = ((max_mapnr + 7) / 8 + B - 1) / B * B;
  l.bitmap_blocks = 2 * (l.bitmap_bytes / B);
  l.bitmap1_off = (1 + l.sub_hdr_blocks) * B;
  l.bitmap2_off = l.bitmap1_off + l.bitmap_bytes;
  l.desc_off = (1 + l.sub_hdr_blocks + l.bitmap_blocks) * B;
  l.descriptors = dumpable_pages;
  l.data_start = l.desc_off + dumpable_pages * sizeof(kdump::PageDesc);
  l.payload_start = l.data_start + (share_zero ? B : 0);
  return l;
}

} // namespace crashkit::capture
