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

} // namespace

Status write_elf(const CaptureContext& ctx, OutputSink& sink, CaptureStats& stats) {
  PageFilter& filter = *ctx.filter;
  const std::uint64_t B = filter.page_size();
  const unsigned shift = filter.page_shift();
  const std::uint64_t cycle = filter.cycle_pfns();
  const int level = filter.dump_level();

  PipelineOptions po;
  po.compression = Compression::none;
  po.threads = ctx.threads;
  po.detect_zero = true;
  po.keep_data = false;
  po.page_size = B;
  po.read_mode = ctx.read_mode;

  PagePipeline pipe(*ctx.core, po); // threads live for the whole pass

  // Pass 1: decide the output segments.
  std::vector<OutSegment> out;
  std::set<std::uint64_t> counted_cycles;
  Bitmap ram, dumpable;
  std::uint64_t progress_total = 0, progress_done = 0;
  for (const auto& s : ctx.core->raw_loads())
    progress_total += s.memsz >> shift;
  for (const auto& s : ctx.core->raw_loads()) {
    const bool alias = s.alias;
    const std::uint64_t seg_end = s.paddr + s.memsz;
    const std::uint64_t pfn_first = s.paddr >> shift;
    const std::uint64_t pfn_last = (seg_end + B - 1) >> shift; // exclusive
    std::uint64_t cur_start = s.paddr; // start of the output segment being built
    std::uint64_t run_start = 0, run_len = 0;
    auto close_at = [&](std::uint64_t file_end, std::uint64_t mem_end) {
      OutSegment o{cur_start, s.vaddr + (cur_start - s.paddr), 0, mem_end - cur_start, 0, alias};
      o.filesz = std::min(file_end, s.paddr + s.filesz) > cur_start
                     ? std::min(file_end, s.paddr + s.filesz) - cur_start
                     : 0;
      out.push_back(o);
    };
    for (std::uint64_t cb = pfn_first / cycle * cycle; cb < pfn_last; cb += cycle) {
      const std::uint64_t ce = std::min(cb + cycle, filter.max_mapnr());
      // A cycle holds several segments: count its exclusions once.
      const bool count = !alias && counted_cycles.insert(cb).second;
      CK_TRY(filter.build(cb, ce, ram, dumpable, count ? &stats.excluded : nullptr,
                          count ? &stats.warnings : nullptr));
      const std::uint64_t lo = std::max(cb, pfn_first), hi = std::min(ce, pfn_last);
      if (level & kExcludeZero) {
        // Zero pages must be known before any PT_LOAD is final: read the dumpable ones now.
        std::uint64_t cursor = lo;
        CK_TRY(pipe.run(
            [&](Batch& b) {
              return fill_batch_from_bitmap(dumpable, cursor, b, hi, ctx.batch_pages);
            },
            [&](const Batch& b) -> Status {
              for (const auto& r : b.records)
                if (r.kind == PageRecord::Kind::zero) {
                  dumpable.clear(r.pfn);
                  if (!alias)
                    ++stats.excluded.zero;
                }
              return {};
            }));
      }
      for (std::uint64_t p = lo; p < hi; ++p) {
        const bool keep = dumpable.test(p);
        if (!keep) {
          if (run_len++ == 0)
            run_start = p;
          continue;
        }
        if (run_len >= kMinExcludedRun) {
          const std::uint64_t run_begin_addr = std::max(run_start << shift, s.paddr);
          const std::uint64_t run_end_addr = p << shift;
          close_at(run_begin_addr, run_end_addr);
          cur_start = run_end_addr;
        }
        run_len = 0;
      }
      progress_done += hi - lo;
      if (ctx.progress)
        ctx.progress(progress_done / 2, progress_total);
    }
    if (run_len >= kMinExcludedRun)
      close_at(std::max(run_start << shift, s.paddr), seg_end);
    else
      close_at(seg_end, seg_end);
    if (!alias)
      stats.ram_pages += pfn_last - pfn_first;
  }

  // Layout: ehdr, phdrs (PT_NOTE first), [section 0 for >= PN_XNUM], notes, page-aligned data.
  const auto& notes = ctx.core->notes();
  const std::uint64_t nph = 1 + out.size();
  const bool xnum = nph >= PN_XNUM;
  std::uint64_t off = sizeof(Elf64_Ehdr) + nph * sizeof(Elf64_Phdr);
  const std::uint64_t shdr_off = off;
  if (xnum)
    off += sizeof(Elf64_Shdr);
  const std::uint64_t notes_off = off;
  off += notes.size();
  off = (off + B - 1) / B * B;
  for (auto& o : out) {
    o.offset = o.filesz ? off : 0;
    off += o.filesz;
  }

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ctx.core->identity().ident, EI_NIDENT);
  eh.e_type = ET_CORE;
  eh.e_machine = ctx.core->identity().machine;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  const bool provisional = !sink.is_stream(); // see kdump_writer.cpp
  eh.e_flags = ctx.core->identity().flags | (provisional ? kElfIncomplete : 0);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = xnum ? PN_XNUM : static_cast<Elf64_Half>(nph);
  if (xnum) {
    eh.e_shoff = shdr_off;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 1;
  }
  CK_TRY(sink.write_at(0, &eh, sizeof eh));
  std::vector<Elf64_Phdr> ph(nph);
  ph[0].p_type = PT_NOTE;
  ph[0].p_offset = notes_off;
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
  if (xnum) {
    Elf64_Shdr sh{};
    sh.sh_info = static_cast<Elf64_Word>(nph);
    CK_TRY(sink.write_at(shdr_off, &sh, sizeof sh));
  }
  if (!notes.empty())
    CK_TRY(sink.write_at(notes_off, notes.data(), notes.size()));

  // Pass 2: copy the file part of every output segment.
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
  stats.written_pages = stats.dumped_pages;
  stats.bytes_written = off;

  if (provisional) {
    eh.e_flags &= ~kElfIncomplete;
    CK_TRY(sink.write_at(0, &eh, sizeof eh));
  }
  return {};
}

} // namespace crashkit::capture
