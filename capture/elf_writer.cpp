// Filtered ELF writer (what gdb reads). Every PT_LOAD of the input is kept with its virtual
// address (gdb resolves kernel symbols through the kernel-text alias); inside a segment, a run
// of at least 256 excluded pages is dropped by ending the output segment there (p_memsz covers
// the run, p_filesz does not) and starting a new one after it. Shorter runs are written with
// their content, as makedumpfile does, so the PT_LOAD count stays small.

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "crashkit/base/io.hpp"
#include "crashkit/capture/page_pipeline.hpp"
#include "crashkit/capture/page_reader.hpp"
#include "writers.hpp"

namespace crashkit::capture {
namespace {

constexpr std::uint64_t kMinExcludedRun = 256;
constexpr std::uint32_t kElfIncomplete = 1; // e_flags bit makedumpfile sets on a partial dump
constexpr std::size_t kCopyChunk = 1u << 20;

struct OutSegment {
  std::uint64_t paddr, vaddr, filesz, memsz, offset;
  bool alias; // the kernel-text view of RAM that another segment also holds
};

/// Pass 1: cuts every input PT_LOAD into output segments, ending one at each run of at least
/// kMinExcludedRun excluded pages. Counts RAM and the excluded pages (each cycle once, aliases
/// never) into the stats. Reports the first half of the progress.
class SegmentPlanner {
public:
  SegmentPlanner(const CaptureContext& ctx, PagePipeline& pipe, CaptureStats& stats)
      : ctx_(ctx), filter_(*ctx.filter), pipe_(pipe), stats_(stats), B_(filter_.page_size()),
        shift_(filter_.page_shift()) {
    for (const auto& s : ctx.core->raw_loads())
      progress_total_ += s.memsz >> shift_;
  }

  Status plan(const LoadSegment& s) {
    const std::uint64_t seg_end = s.paddr + s.memsz;
    const std::uint64_t pfn_first = s.paddr >> shift_;
    const std::uint64_t pfn_last = (seg_end + B_ - 1) >> shift_; // exclusive
    const std::uint64_t cycle = filter_.cycle_pfns();
    std::uint64_t cur_start = s.paddr; // start of the output segment being built
    std::uint64_t run_start = 0, run_len = 0;
    for (std::uint64_t cb = pfn_first / cycle * cycle; cb < pfn_last; cb += cycle) {
      const std::uint64_t ce = std::min(cb + cycle, filter_.max_mapnr());
      // A cycle holds several segments: count its exclusions once.
      const bool count = !s.alias && counted_cycles_.insert(cb).second;
      CK_TRY(filter_.build(cb, ce, ram_, dumpable_, count ? &stats_.excluded : nullptr,
                           count ? &stats_.warnings : nullptr));
      const std::uint64_t lo = std::max(cb, pfn_first), hi = std::min(ce, pfn_last);
      if (filter_.dump_level() & kExcludeZero)
        CK_TRY(drop_zero_pages(lo, hi, s.alias));
      for (std::uint64_t p = lo; p < hi; ++p) {
        if (!dumpable_.test(p)) {
          if (run_len++ == 0)
            run_start = p;
          continue;
        }
        if (run_len >= kMinExcludedRun) {
          const std::uint64_t run_begin_addr = std::max(run_start << shift_, s.paddr);
          const std::uint64_t run_end_addr = p << shift_;
          close(s, cur_start, run_begin_addr, run_end_addr);
          cur_start = run_end_addr;
        }
        run_len = 0;
      }
      progress_done_ += hi - lo;
      if (ctx_.progress)
        ctx_.progress(progress_done_ / 2, progress_total_);
    }
    if (run_len >= kMinExcludedRun)
      close(s, cur_start, std::max(run_start << shift_, s.paddr), seg_end);
    else
      close(s, cur_start, seg_end, seg_end);
    if (!s.alias)
      stats_.ram_pages += pfn_last - pfn_first;
    return {};
  }

  std::vector<OutSegment>& segments() { return out_; }
  std::uint64_t progress_total() const { return progress_total_; }

private:
  // Zero pages must be known before any PT_LOAD is final: read the dumpable ones now.
  Status drop_zero_pages(std::uint64_t lo, std::uint64_t hi, bool alias) {
    std::uint64_t cursor = lo;
    return pipe_.run(
        [&](Batch& b) {
          return fill_batch_from_bitmap(dumpable_, cursor, b, hi, ctx_.batch_pages);
        },
        [&](const Batch& b) -> Status {
          for (const auto& r : b.records)
            if (r.kind == PageRecord::Kind::zero) {
              dumpable_.clear(r.pfn);
              if (!alias)
                ++stats_.excluded.zero;
            }
          return {};
        });
  }
  // Ends the output segment [cur_start, mem_end) of `s`, its file part up to file_end.
  void close(const LoadSegment& s, std::uint64_t cur_start, std::uint64_t file_end,
             std::uint64_t mem_end) {
    OutSegment o{cur_start, s.vaddr + (cur_start - s.paddr), 0, mem_end - cur_start, 0, s.alias};
    o.filesz = std::min(file_end, s.paddr + s.filesz) > cur_start
                   ? std::min(file_end, s.paddr + s.filesz) - cur_start
                   : 0;
    out_.push_back(o);
  }

  const CaptureContext& ctx_;
  PageFilter& filter_;
  PagePipeline& pipe_;
  CaptureStats& stats_;
  const std::uint64_t B_;
  const unsigned shift_;
  std::vector<OutSegment> out_;
  std::set<std::uint64_t> counted_cycles_;
  Bitmap ram_, dumpable_;
  std::uint64_t progress_total_ = 0, progress_done_ = 0;
};

/// Where the parts of the output go: ehdr, phdrs (PT_NOTE first), [section 0 for >= PN_XNUM],
/// notes, page-aligned segment data (each segment's offset is set here).
struct ElfLayout {
  std::uint64_t nph = 0; ///< program headers, PT_NOTE included
  bool xnum = false;     ///< nph does not fit e_phnum: section 0's sh_info holds it
  std::uint64_t shdr_off = 0, notes_off = 0;
  std::uint64_t end = 0; ///< file size
};

ElfLayout lay_out(std::vector<OutSegment>& out, std::uint64_t notes_size, std::uint64_t B) {
  ElfLayout l;
  l.nph = 1 + out.size();
  l.xnum = l.nph >= PN_XNUM;
  std::uint64_t off = sizeof(Elf64_Ehdr) + l.nph * sizeof(Elf64_Phdr);
  l.shdr_off = off;
  if (l.xnum)
    off += sizeof(Elf64_Shdr);
  l.notes_off = off;
  off += notes_size;
  off = (off + B - 1) / B * B;
  for (auto& o : out) {
    o.offset = o.filesz ? off : 0;
    off += o.filesz;
  }
  l.end = off;
  return l;
}

Elf64_Ehdr make_ehdr(const VmcoreFile& core, const ElfLayout& l, bool provisional) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, core.identity().ident, EI_NIDENT);
  eh.e_type = ET_CORE;
  eh.e_machine = core.identity().machine;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_flags = core.identity().flags | (provisional ? kElfIncomplete : 0);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = l.xnum ? PN_XNUM : static_cast<Elf64_Half>(l.nph);
  if (l.xnum) {
    eh.e_shoff = l.shdr_off;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
  }
  return eh;
}

/// Everything before the segment data: ehdr, phdrs, section 0 when needed, notes.
Status write_headers(const VmcoreFile& core, OutputSink& sink, const ElfLayout& l,
                     const std::vector<OutSegment>& out, const Elf64_Ehdr& eh) {
  const auto& notes = core.notes();
  CK_TRY(sink.write_at(0, &eh, sizeof eh));
  std::vector<Elf64_Phdr> ph(l.nph);
  ph[0].p_type = PT_NOTE;
  ph[0].p_offset = l.notes_off;
  ph[0].p_filesz = ph[0].p_memsz = notes.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& p = ph[i + 1];
    p.p_type = PT_LOAD;
    p.p_flags = PF_R | PF_W | PF_X;
    p.p_offset = out[i].offset;
    p.p_vaddr = out[i].vaddr;
    p.p_paddr = out[i].paddr;
    p.p_filesz = out[i].filesz;
    p.p_memsz = out[i].memsz;
  }
  CK_TRY(sink.write_at(sizeof eh, ph.data(), ph.size() * sizeof(Elf64_Phdr)));
  if (l.xnum) {
    Elf64_Shdr sh{};
    sh.sh_info = static_cast<Elf64_Word>(l.nph);
    CK_TRY(sink.write_at(l.shdr_off, &sh, sizeof sh));
  }
  if (!notes.empty())
    CK_TRY(sink.write_at(l.notes_off, notes.data(), notes.size()));
  return {};
}

/// Pass 2: copies the file part of every output segment. Reports the second half of the
/// progress.
Status copy_segments(const CaptureContext& ctx, OutputSink& sink,
                     const std::vector<OutSegment>& out, std::uint64_t progress_total,
                     CaptureStats& stats) {
  const std::uint64_t B = ctx.filter->page_size();
  const unsigned shift = ctx.filter->page_shift();
  std::vector<std::uint8_t> buf(kCopyChunk);
  std::uint64_t copied = 0;
  for (const auto& o : out) {
    for (std::uint64_t done = 0; done < o.filesz;) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), o.filesz - done));
      auto st = ctx.core->read_phys(o.paddr + done, buf.data(), n);
      if (!st) {
        // Retry page by page: only the pages that fail are lost (zero-filled and counted).
        for (std::size_t i = 0; i < n; i += B) {
          const std::size_t m = std::min<std::size_t>(B, n - i);
          if (!ctx.core->read_phys(o.paddr + done + i, buf.data() + i, m)) {
            std::memset(buf.data() + i, 0, m);
            ++stats.unreadable_pages;
          }
        }
      }
      CK_TRY(sink.write_at(o.offset + done, buf.data(), n));
      done += n;
      copied += n >> shift;
      if (ctx.progress)
        ctx.progress(progress_total / 2 + std::min(copied, progress_total) / 2, progress_total);
    }
    if (!o.alias)
      stats.dumped_pages += (o.filesz + B - 1) / B;
  }
  return {};
}

} // namespace

Status write_elf(const CaptureContext& ctx, OutputSink& sink, CaptureStats& stats) {
  PipelineOptions po;
  po.compression = Compression::none;
  po.threads = ctx.threads;
  po.detect_zero = true;
  po.keep_data = false;
  po.page_size = ctx.filter->page_size();
  po.read_mode = ctx.read_mode;
  PagePipeline pipe(*ctx.core, po); // threads live for the whole pass

  SegmentPlanner planner(ctx, pipe, stats);
  for (const auto& s : ctx.core->raw_loads())
    CK_TRY(planner.plan(s));
  std::vector<OutSegment>& out = planner.segments();

  const ElfLayout layout = lay_out(out, ctx.core->notes().size(), ctx.filter->page_size());
  const bool provisional = !sink.is_stream(); // see kdump_writer.cpp
  Elf64_Ehdr eh = make_ehdr(*ctx.core, layout, provisional);
  CK_TRY(write_headers(*ctx.core, sink, layout, out, eh));
  CK_TRY(copy_segments(ctx, sink, out, planner.progress_total(), stats));
  stats.written_pages = stats.dumped_pages;
  stats.bytes_written = layout.end;

  if (provisional) {
    eh.e_flags &= ~kElfIncomplete;
    CK_TRY(sink.write_at(0, &eh, sizeof eh));
  }
  return {};
}

} // namespace crashkit::capture
