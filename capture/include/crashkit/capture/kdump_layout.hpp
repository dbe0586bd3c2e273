#pragma once
/// Where each part of a kdump-compressed file goes, from the page counts alone: the writer
/// places its bytes by it and the capture init's space estimate sizes the file by it, so the
/// two cannot disagree. Block B = page size:
///   header (1 block) | sub-header + ELF notes (sub_hdr_blocks) | 1st bitmap | 2nd bitmap |
///   page_desc table (one per dumpable page, rank order) | [shared zero page] | payloads

#include <cstdint>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/page_filter.hpp"

namespace crashkit::capture {

/// The dumpable pages of a filter, counted per cycle of cycle_pfns() PFNs (the descriptor rank
/// of a cycle's first page is the sum of the counts before it).
struct DumpableCount {
  std::vector<std::uint64_t> per_cycle;
  std::uint64_t total = 0;
  /// Dumpable pages in the cycles before cycle number `cycle`.
  std::uint64_t before_cycle(std::uint64_t cycle) const;
};

/// The counting pass: builds every cycle's bitmaps once (struct pages only, no page data).
/// Errors: those of PageFilter::build. Not thread-safe (the filter is not).
Result<DumpableCount> count_dumpable(PageFilter& filter);

struct KdumpLayout {
  std::uint64_t block_size = 0;
  std::uint64_t sub_hdr_blocks = 0; ///< kdump_sub_header plus the notes, in blocks
  std::uint64_t bitmap_bytes = 0;   ///< one bitmap, rounded up to whole blocks
  std::uint64_t bitmap_blocks = 0;  ///< both bitmaps, as disk_dump_header.bitmap_blocks
  std::uint64_t bitmap1_off = 0;
  std::uint64_t bitmap2_off = 0;
  std::uint64_t desc_off = 0;
  std::uint64_t descriptors = 0;   ///< dumpable pages: one page_desc each
  std::uint64_t data_start = 0;    ///< end of the descriptor table: the shared zero page
  std::uint64_t payload_start = 0; ///< first payload byte (after the zero page when shared)

  /// The layout for `dumpable_pages` of `max_mapnr` PFNs of `block_size` bytes, with
  /// `notes_bytes` of ELF notes after the sub-header; with share_zero one zero page serves
  /// every all-zero page (dump level bit 1).
  static KdumpLayout compute(std::uint64_t block_size, std::uint64_t notes_bytes,
                             std::uint64_t max_mapnr, std::uint64_t dumpable_pages,
                             bool share_zero);

  /// The largest file this layout makes: every dumpable page stored raw (a page is never
  /// stored larger than the page), none shared. A page stored compressed, found all-zero or
  /// identical to an earlier page, or unreadable makes the file smaller by what it saves.
  std::uint64_t max_file_bytes() const { return payload_start + descriptors * block_size; }
};

} // namespace crashkit::capture
