// kdump-compressed writer, in the layout kdump_layout.hpp describes. The descriptor count must
// be known before any payload is placed, so the filter runs once to count (cheap: struct pages
// only) and once while writing; payload reading and compression happen once, on the worker
// threads.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "crashkit/base/io.hpp"
#include "crashkit/capture/dedup_table.hpp"
#include "crashkit/capture/kdump_format.hpp"
#include "crashkit/capture/kdump_layout.hpp"
#include "crashkit/capture/page_pipeline.hpp"
#include "writers.hpp"

namespace crashkit::capture {
namespace {

constexpr std::size_t kDataFlush = 1u << 20;
constexpr std::size_t kDescFlush = 64u << 10;

void fill_utsname(const CaptureContext& ctx, kdump::DiskDumpHeader& h) {
  // The crashed kernel's own init_uts_ns.name; crash checks `machine`.
  auto sym = ctx.info->symbol("init_uts_ns");
  auto off = ctx.info->offset("uts_namespace.name");
  if (ctx.mem && sym) {
    char buf[6 * kdump::kUtsFieldLen];
    // Before 4.x VMCOREINFO had no OFFSET(uts_namespace.name); the name follows a kref (4 bytes,
    // padded to the struct's alignment of the embedded strings: 1), so 4 is the historic offset.
    const std::uint64_t addr = *sym + static_cast<std::uint64_t>(off.value_or(4));
    if (ctx.mem->read_virt(addr, buf, sizeof buf) && std::memcmp(buf, "Linux", 5) == 0) {
      std::memcpy(h.utsname, buf, sizeof buf);
      return;
    }
  }
  std::snprintf(h.utsname[0], kdump::kUtsFieldLen, "Linux");
  std::snprintf(h.utsname[2], kdump::kUtsFieldLen, "%s", ctx.info->osrelease().c_str());
  if (ctx.arch)
    std::snprintf(h.utsname[4], kdump::kUtsFieldLen, "%s", ctx.arch->name);
}

/// disk_dump_header for `layout`; `provisional` marks it incomplete until the last page is on
/// disk. Errors: unsupported when the bitmaps outgrow the header's 32-bit block count.
Result<kdump::DiskDumpHeader> make_header(const CaptureContext& ctx, const KdumpLayout& layout,
                                          bool provisional) {
  const std::uint64_t max_mapnr = ctx.filter->max_mapnr();
  kdump::DiskDumpHeader h{};
  std::memcpy(h.signature, kdump::kSignature, sizeof h.signature);
  h.header_version = kdump::kHeaderVersion;
  fill_utsname(ctx, h);
  h.timestamp_sec = static_cast<std::int64_t>(ctx.info->crashtime().value_or(0));
  h.status = kdump_flag(ctx.compression) | (provisional ? kdump::kStatusIncomplete : 0);
  h.block_size = static_cast<std::int32_t>(layout.block_size);
  h.sub_hdr_size = static_cast<std::int32_t>(layout.sub_hdr_blocks);
  h.bitmap_blocks = static_cast<std::uint32_t>(layout.bitmap_blocks);
  h.max_mapnr = static_cast<std::uint32_t>(std::min<std::uint64_t>(max_mapnr, 0xffffffffULL));
  h.nr_cpus = ctx.core->prstatus_count();
  if (layout.bitmap_blocks > 0xffffffffULL)
    return Error(ErrorCategory::unsupported, "bitmap too large for the kdump header");
  return h;
}

kdump::KdumpSubHeader make_sub_header(const CaptureContext& ctx, const KdumpLayout& layout) {
  kdump::KdumpSubHeader sh{};
  if (auto pb = ctx.info->number("phys_base"))
    sh.phys_base = static_cast<std::uint64_t>(*pb);
  sh.dump_level = ctx.filter->dump_level();
  sh.offset_note = layout.block_size + sizeof(kdump::KdumpSubHeader);
  sh.size_note = ctx.core->notes().size();
  for (const auto& n : ctx.core->note_list())
    if (n.name == "VMCOREINFO") {
      sh.offset_vmcoreinfo = sh.offset_note + n.desc_offset;
      sh.size_vmcoreinfo = n.desc_size;
    }
  sh.max_mapnr_64 = ctx.filter->max_mapnr();
  return sh;
}

/// Everything before the payloads: header, sub-header, notes and the shared zero page. The
/// bitmaps follow cycle by cycle, the descriptors with their payloads.
Status write_metadata(const CaptureContext& ctx, OutputSink& sink, const KdumpLayout& layout,
                      const kdump::DiskDumpHeader& h, const kdump::KdumpSubHeader& sh) {
  const std::uint64_t B = layout.block_size;
  // Reserve the metadata (headers, bitmaps, descriptor table, zero page) up front: when the disk
  // fills later, descriptors of the pages that did get written can still be stored.
  if (int fd = sink.file_fd(); fd >= 0) {
    const int r = ::posix_fallocate(fd, 0, static_cast<off_t>(layout.data_start + B));
    if (r == ENOSPC)
      return Error::from_errno(r, "reserving " + std::to_string(layout.data_start + B) +
                                      " bytes for headers and the page table")
          .with_path(sink.name());
  }
  CK_TRY(sink.write_at(0, &h, sizeof h));
  CK_TRY(sink.write_at(B, &sh, sizeof sh));
  const auto& notes = ctx.core->notes();
  if (!notes.empty())
    CK_TRY(sink.write_at(sh.offset_note, notes.data(), notes.size()));
  if (layout.payload_start != layout.data_start) {
    std::vector<std::uint8_t> zero(B, 0);
    CK_TRY(sink.write_at(layout.data_start, zero.data(), zero.size()));
  }
  return {};
}

// After a full disk: payloads end where the first hole after the data start is; descriptors
// that point past it (their payload never reached the disk) are cleared, so crash reports those
// pages as missing instead of failing to decompress them. The table itself was preallocated.
Status drop_descriptors_past_data(OutputSink& sink, const KdumpLayout& layout) {
  const int fd = sink.file_fd();
  const std::uint64_t desc_off = layout.desc_off, count = layout.descriptors;
  // Preallocated up to here (write_metadata): the first hole is past it.
  const std::uint64_t data_begin = layout.data_start + layout.block_size;
  const off_t hole = ::lseek(fd, static_cast<off_t>(data_begin), SEEK_HOLE);
  if (hole < 0)
    return Error::from_errno(errno, "find the end of the written data").with_path(sink.name());
  const auto data_end = static_cast<std::uint64_t>(hole);
  std::vector<kdump::PageDesc> chunk(4096);
  for (std::uint64_t i = 0; i < count; i += chunk.size()) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), count - i));
    const std::uint64_t off = desc_off + i * sizeof(kdump::PageDesc);
    CK_TRY(pread_full(fd, chunk.data(), n * sizeof(kdump::PageDesc), off, sink.name()));
    bool changed = false;
    for (std::size_t k = 0; k < n; ++k) {
      auto& d = chunk[k];
      if (d.offset > 0 && static_cast<std::uint64_t>(d.offset) + d.size > data_end) {
        d = kdump::PageDesc{};
        changed = true;
      }
    }
    if (changed)
      CK_TRY(pwrite_full(fd, chunk.data(), n * sizeof(kdump::PageDesc), off, sink.name()));
  }
  if (::fdatasync(fd) != 0)
    return Error::from_errno(errno, "fdatasync").with_path(sink.name());
  return {};
}

/// The pages written first: the PT_LOAD /proc/vmcore gives for kernel text, an alias of RAM.
struct PfnRange {
  std::uint64_t begin = 0, end = 0;
};
PfnRange kernel_image_pfns(const VmcoreFile& core, std::uint64_t B, std::uint64_t max_mapnr) {
  PfnRange r;
  if (const LoadSegment* seg = core.kernel_text()) {
    r.begin = std::min(seg->paddr / B, max_mapnr);
    r.end = std::min((seg->paddr + seg->memsz + B - 1) / B, max_mapnr);
  }
  return r;
}

// Descriptors must sit in rank order, but payload offsets are free, so payloads go out in the
// order crash needs them: first the kernel image, then the rest of the kernel's own data (what
// level 31 keeps), then user, cache and free pages. A dump cut short by a full disk loses the
// least useful pages.
enum class Phase { kernel_image, kernel_data, rest };

/// Walks the cycles of one phase: builds each cycle's bitmaps (storing them while the first
/// two phases pass over every cycle), selects the phase's pages and hands them out in
/// batches, each page with its descriptor rank. The kernel_data phase counts the excluded
/// pages and RAM into the stats.
class CycleCursor {
public:
  CycleCursor(const CaptureContext& ctx, OutputSink& sink, const KdumpLayout& layout,
              const DumpableCount& counts, CaptureStats& stats)
      : ctx_(ctx), filter_(*ctx.filter), sink_(sink), layout_(layout), counts_(counts),
        stats_(stats),
        kimg_(kernel_image_pfns(*ctx.core, filter_.page_size(), filter_.max_mapnr())) {}

  void start(Phase phase) {
    phase_ = phase;
    cycle_begin_ = 0;
    have_cycle_ = false;
  }
  /// Fills `b` with the next pages of the phase; false at its end or on an error (error()).
  bool fill(Batch& b) {
    for (;;) {
      if (!have_cycle_ && !next_cycle())
        return false;
      if (fill_batch_from_bitmap(selected_, cursor_, b, cycle_end_, ctx_.batch_pages)) {
        for (auto p : b.pfns) {
          rank_value_ += dumpable_.count_range(rank_pfn_, p);
          rank_pfn_ = p;
          b.ranks.push_back(rank_value_);
        }
        return true;
      }
      have_cycle_ = false;
    }
  }
  /// Why fill() stopped early, if it did (then cleared).
  Status take_error() { return std::exchange(error_, Status{}); }

private:
  bool next_cycle() {
    const std::uint64_t max_mapnr = filter_.max_mapnr(), cycle = filter_.cycle_pfns();
    while (cycle_begin_ < max_mapnr) {
      const std::uint64_t c = cycle_begin_ / cycle;
      const std::uint64_t b0 = cycle_begin_, e = std::min(max_mapnr, cycle_begin_ + cycle);
      cycle_begin_ = e;
      if (phase_ == Phase::kernel_image && (e <= kimg_.begin || b0 >= kimg_.end))
        continue;
      if (auto st = build_cycle(b0, e); !st) {
        error_ = std::move(st);
        return false;
      }
      select(b0, e);
      rank_value_ = counts_.before_cycle(c);
      rank_pfn_ = b0;
      cursor_ = b0;
      cycle_end_ = e;
      have_cycle_ = true;
      return true;
    }
    return false;
  }
  Status build_cycle(std::uint64_t b0, std::uint64_t e) {
    const bool counting = phase_ == Phase::kernel_data;
    CK_TRY(filter_.build(b0, e, ram_, dumpable_, counting ? &stats_.excluded : nullptr,
                         counting ? &stats_.warnings : nullptr,
                         phase_ == Phase::kernel_image ? nullptr : &important_));
    if (phase_ != Phase::rest) {
      CK_TRY(sink_.write_at(layout_.bitmap1_off + b0 / 8, ram_.bytes(), ram_.byte_size()));
      CK_TRY(
          sink_.write_at(layout_.bitmap2_off + b0 / 8, dumpable_.bytes(), dumpable_.byte_size()));
    }
    if (counting)
      stats_.ram_pages += ram_.popcount();
    return {};
  }
  // Word-wise selection of this phase's pages (the bitmaps share the cycle's window).
  void select(std::uint64_t b0, std::uint64_t e) {
    selected_ = dumpable_;
    if (phase_ == Phase::kernel_image) {
      selected_.clear_range(b0, kimg_.begin);
      selected_.clear_range(kimg_.end, e);
    } else {
      selected_.intersect(important_, /*invert=*/phase_ == Phase::rest);
      selected_.clear_range(kimg_.begin, kimg_.end);
    }
  }

  const CaptureContext& ctx_;
  PageFilter& filter_;
  OutputSink& sink_;
  const KdumpLayout& layout_;
  const DumpableCount& counts_;
  CaptureStats& stats_;
  const PfnRange kimg_;
  Phase phase_ = Phase::kernel_image;
  Bitmap ram_, dumpable_, important_, selected_;
  std::uint64_t cycle_begin_ = 0, cursor_ = 0, cycle_end_ = 0;
  std::uint64_t rank_pfn_ = 0, rank_value_ = 0; // rank of rank_pfn_ = dumpable pages before it
  bool have_cycle_ = false;
  Status error_;
};

/// Takes the pipeline's batches in output order: places each page's payload (or shares the
/// zero page or an identical earlier payload) and buffers its descriptor in runs of
/// consecutive ranks. Payload bytes always reach the sink before the descriptors pointing at
/// them.
class DescriptorWriter {
public:
  DescriptorWriter(const CaptureContext& ctx, OutputSink& sink, const KdumpLayout& layout,
                   CaptureStats& stats)
      : ctx_(ctx), sink_(sink), layout_(layout), stats_(stats), dedup_(ctx.dedup_log2),
        data_cur_(layout.payload_start), data_flushed_(layout.payload_start),
        page_a_(layout.block_size), page_b_(layout.block_size) {}

  Status consume(const Batch& b) {
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      if (b.ranks[i] != desc_buf_rank_ + desc_buf_.size()) {
        // A gap in rank order (pages of another phase): start a new descriptor run.
        CK_TRY(flush());
        desc_buf_rank_ = b.ranks[i];
      }
      desc_buf_.push_back(describe(b, b.records[i]));
      ++descs_written_;
    }
    done_ += b.records.size();
    // Data before descriptors: a descriptor on disk always points at written data.
    if (data_buf_.size() >= kDataFlush || desc_buf_.size() * sizeof(kdump::PageDesc) >= kDescFlush)
      CK_TRY(flush());
    if (ctx_.progress)
      ctx_.progress(done_, layout_.descriptors);
    return {};
  }
  Status flush() {
    if (!data_buf_.empty()) {
      CK_TRY(sink_.write_at(data_flushed_, data_buf_.data(), data_buf_.size()));
      data_flushed_ += data_buf_.size();
      data_buf_.clear();
    }
    if (!desc_buf_.empty()) {
      CK_TRY(sink_.write_at(layout_.desc_off + desc_buf_rank_ * sizeof(kdump::PageDesc),
                            desc_buf_.data(), desc_buf_.size() * sizeof(kdump::PageDesc)));
      desc_buf_rank_ += desc_buf_.size();
      desc_buf_.clear();
    }
    return {};
  }
  std::uint64_t descriptors_written() const { return descs_written_; }
  /// End of the payloads placed so far.
  std::uint64_t data_end() const { return data_cur_; }

private:
  kdump::PageDesc describe(const Batch& b, const PageRecord& r) {
    kdump::PageDesc d{};
    switch (r.kind) {
    case PageRecord::Kind::zero:
      d.offset = static_cast<std::int64_t>(layout_.data_start);
      d.size = static_cast<std::uint32_t>(layout_.block_size);
      ++stats_.excluded.zero;
      break;
    case PageRecord::Kind::unreadable:
      // offset 0: crash reports the page as missing instead of inventing content.
      ++stats_.unreadable_pages;
      break;
    case PageRecord::Kind::data:
      if (ctx_.dedup) {
        auto e = dedup_.find(r.hash);
        if (e && same_content(e->pfn, r.pfn)) {
          d.offset = static_cast<std::int64_t>(e->offset);
          d.size = e->size;
          d.flags = e->flags;
          ++stats_.shared_pages;
          break;
        }
      }
      d = put_payload(r, b.data.data() + r.data_off);
      break;
    }
    return d;
  }
  kdump::PageDesc put_payload(const PageRecord& r, const std::uint8_t* p) {
    kdump::PageDesc d{};
    d.offset = static_cast<std::int64_t>(data_cur_);
    d.size = r.size;
    d.flags = r.flags;
    data_buf_.insert(data_buf_.end(), p, p + r.size);
    data_cur_ += r.size;
    ++stats_.written_pages;
    if (ctx_.dedup)
      dedup_.insert({r.hash, r.pfn, static_cast<std::uint64_t>(d.offset), r.size, r.flags});
    return d;
  }
  // Identical pages share one payload (dedup_table.hpp): the writer alone decides, in output
  // order, after comparing the pages, so the output does not depend on worker timing.
  bool same_content(std::uint64_t pfn_a, std::uint64_t pfn_b) {
    const std::uint64_t B = layout_.block_size;
    return ctx_.core->read_phys(pfn_a * B, page_a_.data(), B) &&
           ctx_.core->read_phys(pfn_b * B, page_b_.data(), B) &&
           std::memcmp(page_a_.data(), page_b_.data(), B) == 0;
  }

  const CaptureContext& ctx_;
  OutputSink& sink_;
  const KdumpLayout& layout_;
  CaptureStats& stats_;
  DedupTable dedup_;
  std::vector<std::uint8_t> data_buf_;
  std::vector<kdump::PageDesc> desc_buf_;
  std::uint64_t data_cur_, data_flushed_, desc_buf_rank_ = 0, descs_written_ = 0, done_ = 0;
  std::vector<std::uint8_t> page_a_, page_b_;
};

PipelineOptions pipeline_options(const CaptureContext& ctx, bool share_zero) {
  PipelineOptions po;
  po.hash_pages = ctx.dedup;
  po.compression = ctx.compression;
  po.zstd_level = ctx.zstd_level;
  po.threads = ctx.threads;
  po.detect_zero = share_zero;
  po.page_size = ctx.filter->page_size();
  po.read_mode = ctx.read_mode;
  return po;
}

/// One phase through the pipeline. On a full disk, what did get written stays readable:
/// descriptors whose payload is missing are cleared.
Status write_phase(Phase phase, PagePipeline& pipe, CycleCursor& cycles, DescriptorWriter& out,
                   OutputSink& sink, const KdumpLayout& layout, CaptureStats& stats) {
  cycles.start(phase);
  auto st = pipe.run([&](Batch& b) { return cycles.fill(b); },
                     [&](const Batch& b) { return out.consume(b); });
  if (st)
    st = out.flush();
  if (!st) {
    if (st.error().category() == ErrorCategory::no_space && sink.file_fd() >= 0) {
      (void)out.flush();
      (void)sink.flush_staged();
      // The full disk stays the error; a repair that fails too leaves descriptors whose
      // payload is missing (crash then fails on those pages), which the stats say.
      if (auto repaired = drop_descriptors_past_data(sink, layout); !repaired)
        stats.warnings.push_back("clearing the descriptors past the written data: " +
                                 repaired.error().message());
    }
    return st;
  }
  return cycles.take_error();
}

/// Every page on disk before the header says complete: a writer killed (or a power cut)
/// between the two leaves an .incomplete that says so, not one whose tail is missing.
Status mark_complete(OutputSink& sink, kdump::DiskDumpHeader& h) {
  CK_TRY(sink.sync_data());
  h.status &= ~kdump::kStatusIncomplete;
  return sink.write_at(0, &h, sizeof h);
}

} // namespace

bool fill_batch_from_bitmap(const Bitmap& bm, std::uint64_t& cursor, Batch& b, std::uint64_t limit,
                            std::size_t max_pages) {
  constexpr std::uint64_t kMaxSpan = 16384; // 64 MiB of PFNs: sparse levels still fill batches
  const std::uint64_t end = std::min(bm.base() + bm.count(), limit);
  std::uint64_t p = bm.next_set(cursor);
  if (p >= end) {
    cursor = end;
    return false;
  }
  const std::uint64_t span_end = std::min(end, p + kMaxSpan);
  while (p < span_end && b.pfns.size() < max_pages) {
    b.pfns.push_back(p);
    p = bm.next_set(p + 1);
  }
  cursor = p;
  return true;
}

Status write_kdump(const CaptureContext& ctx, OutputSink& sink, CaptureStats& stats) {
  PageFilter& filter = *ctx.filter;
  const DumpableCount counts = CK_TRY(count_dumpable(filter));
  const KdumpLayout layout =
      KdumpLayout::compute(filter.page_size(), ctx.core->notes().size(), filter.max_mapnr(),
                           counts.total, filter.dump_level() & kExcludeZero);
  // Incomplete until the very end: a dump cut short by ENOSPC or a crash says so. A stream
  // reader takes the first header it sees, so a stream gets the final header only.
  const bool provisional = !sink.is_stream();
  kdump::DiskDumpHeader h = CK_TRY(make_header(ctx, layout, provisional));
  CK_TRY(write_metadata(ctx, sink, layout, h, make_sub_header(ctx, layout)));

  PagePipeline pipe(*ctx.core, pipeline_options(ctx, layout.payload_start != layout.data_start));
  CycleCursor cycles(ctx, sink, layout, counts, stats);
  DescriptorWriter out(ctx, sink, layout, stats);
  for (Phase phase : {Phase::kernel_image, Phase::kernel_data, Phase::rest}) {
    if (phase == Phase::rest && !filter.importance_differs())
      break; // nothing left over
    CK_TRY(write_phase(phase, pipe, cycles, out, sink, layout, stats));
  }
  if (out.descriptors_written() != counts.total)
    return Error(ErrorCategory::internal, "descriptor count changed between passes (" +
                                              std::to_string(counts.total) + " vs " +
                                              std::to_string(out.descriptors_written()) + ")");
  stats.dumped_pages = counts.total;
  if (provisional)
    CK_TRY(mark_complete(sink, h));
  stats.bytes_written = out.data_end();
  return {};
}

} // namespace crashkit::capture
