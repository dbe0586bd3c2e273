// kdump-compressed writer. Layout (block B = page size): header | sub-header + notes | 1st
// bitmap | 2nd bitmap | page_desc table (one per dumpable page, rank order) | [shared zero
// page] | payloads. The descriptor count must be known before any payload is placed, so the
// filter runs once to count (cheap: struct pages only) and once while writing; payload reading
// and compression happen once, on the worker threads.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "crashkit/base/io.hpp"
#include "crashkit/capture/dedup_table.hpp"
#include "crashkit/capture/kdump_format.hpp"
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
  std::snprintf(h.utsname[4], kdump::kUtsFieldLen, "x86_64");
}

// After a full disk: payloads end where the first hole after the data start is; descriptors
// that point past it (their payload never reached the disk) are cleared, so crash reports those
// pages as missing instead of failing to decompress them. The table itself was preallocated.
Status drop_descriptors_past_data(int fd, std::uint64_t desc_off, std::uint64_t count,
                                  std::uint64_t data_begin) {
  const off_t hole = ::lseek(fd, static_cast<off_t>(data_begin), SEEK_HOLE);
  if (hole < 0)
    return Error::from_errno(errno, "find the end of the written data");
  const auto data_end = static_cast<std::uint64_t>(hole);
  std::vector<kdump::PageDesc> chunk(4096);
  for (std::uint64_t i = 0; i < count; i += chunk.size()) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), count - i));
    const std::uint64_t off = desc_off + i * sizeof(kdump::PageDesc);
    CK_TRY(pread_full(fd, chunk.data(), n * sizeof(kdump::PageDesc), off, "dump"));
    bool changed = false;
    for (std::size_t k = 0; k < n; ++k) {
      auto& d = chunk[k];
      if (d.offset > 0 && static_cast<std::uint64_t>(d.offset) + d.size > data_end) {
        d = kdump::PageDesc{};
        changed = true;
      }
    }
    if (changed)
      CK_TRY(pwrite_full(fd, chunk.data(), n * sizeof(kdump::PageDesc), off, "dump"));
  }
  ::fdatasync(fd);
  return {};
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
  const std::uint64_t B = filter.page_size();
  const std::uint64_t max_mapnr = filter.max_mapnr();
  const std::uint64_t cycle = filter.cycle_pfns();
  const int level = filter.dump_level();

  // Pass 1: count dumpable pages (descriptor table size), per cycle for rank lookups.
  Bitmap ram, dumpable;
  std::uint64_t num_dumpable = 0;
  std::vector<std::uint64_t> cycle_counts;
  for (std::uint64_t b = 0; b < max_mapnr; b += cycle) {
    CK_TRY(filter.build(b, std::min(max_mapnr, b + cycle), ram, dumpable, nullptr));
    cycle_counts.push_back(dumpable.popcount());
    num_dumpable += cycle_counts.back();
  }

  const auto& notes = ctx.core->notes();
  const std::uint64_t sub_hdr_blocks = (sizeof(kdump::KdumpSubHeader) + notes.size() + B - 1) / B;
  const std::uint64_t bitmap_bytes_one = ((max_mapnr + 7) / 8 + B - 1) / B * B;
  const std::uint64_t bitmap_blocks = 2 * (bitmap_bytes_one / B);
  const std::uint64_t bitmap1_off = (1 + sub_hdr_blocks) * B;
  const std::uint64_t bitmap2_off = bitmap1_off + bitmap_bytes_one;
  const std::uint64_t desc_off = (1 + sub_hdr_blocks + bitmap_blocks) * B;
  const std::uint64_t data_start = desc_off + num_dumpable * sizeof(kdump::PageDesc);
  const bool share_zero = level & kExcludeZero;
  std::uint64_t data_cur = data_start + (share_zero ? B : 0);

  kdump::DiskDumpHeader h{};
  std::memcpy(h.signature, kdump::kSignature, sizeof h.signature);
  h.header_version = kdump::kHeaderVersion;
  fill_utsname(ctx, h);
  h.timestamp_sec = static_cast<std::int64_t>(ctx.info->crashtime().value_or(0));
  // Incomplete until the very end: a dump cut short by ENOSPC or a crash says so. A stream
  // reader takes the first header it sees, so a stream gets the final header only.
  const bool provisional = !sink.is_stream();
  h.status = kdump_flag(ctx.compression) | (provisional ? kdump::kStatusIncomplete : 0);
  h.block_size = static_cast<std::int32_t>(B);
  h.sub_hdr_size = static_cast<std::int32_t>(sub_hdr_blocks);
  h.bitmap_blocks = static_cast<std::uint32_t>(bitmap_blocks);
  h.max_mapnr = static_cast<std::uint32_t>(std::min<std::uint64_t>(max_mapnr, 0xffffffffULL));
  h.nr_cpus = ctx.core->prstatus_count();
  if (bitmap_blocks > 0xffffffffULL)
    return Error(ErrorCategory::unsupported, "bitmap too large for the kdump header");

  kdump::KdumpSubHeader sh{};
  if (auto pb = ctx.info->number("phys_base"))
    sh.phys_base = static_cast<std::uint64_t>(*pb);
  sh.dump_level = level;
  sh.offset_note = B + sizeof(kdump::KdumpSubHeader);
  sh.size_note = notes.size();
  for (const auto& n : ctx.core->note_list())
    if (n.name == "VMCOREINFO") {
      sh.offset_vmcoreinfo = sh.offset_note + n.desc_offset;
      sh.size_vmcoreinfo = n.desc_size;
    }
  sh.max_mapnr_64 = max_mapnr;

  // Reserve the metadata (headers, bitmaps, descriptor table, zero page) up front: when the disk
  // fills later, descriptors of the pages that did get written can still be stored.
  if (int fd = sink.file_fd(); fd >= 0) {
    const int r = ::posix_fallocate(fd, 0, static_cast<off_t>(data_start + B));
    if (r == ENOSPC)
      return Error::from_errno(r, "reserving " + std::to_string(data_start + B) +
                                      " bytes for headers and the page table")
          .with_path(sink.name());
  }
  CK_TRY(sink.write_at(0, &h, sizeof h));
  CK_TRY(sink.write_at(B, &sh, sizeof sh));
  if (!notes.empty())
    CK_TRY(sink.write_at(sh.offset_note, notes.data(), notes.size()));
  if (share_zero) {
    std::vector<std::uint8_t> zero(B, 0);
    CK_TRY(sink.write_at(data_start, zero.data(), zero.size()));
  }

  // Pass 2: pages through the pipeline. Descriptors must sit in rank order, but payload
  // offsets are free, so payloads go out in the order crash needs them: first the kernel image,
  // then the rest of the kernel's own data (what level 31 keeps), then user, cache and free
  // pages. A dump cut short by a full disk loses the least useful pages.
  std::vector<std::uint8_t> data_buf;
  std::vector<kdump::PageDesc> desc_buf;
  std::uint64_t data_flushed = data_cur, desc_buf_rank = 0, descs_written = 0;
  auto flush = [&]() -> Status {
    if (!data_buf.empty()) {
      CK_TRY(sink.write_at(data_flushed, data_buf.data(), data_buf.size()));
      data_flushed += data_buf.size();
      data_buf.clear();
    }
    if (!desc_buf.empty()) {
      CK_TRY(sink.write_at(desc_off + desc_buf_rank * sizeof(kdump::PageDesc), desc_buf.data(),
                           desc_buf.size() * sizeof(kdump::PageDesc)));
      desc_buf_rank += desc_buf.size();
      desc_buf.clear();
    }
    return {};
  };

  // The kernel image: the PT_LOAD /proc/vmcore gives for kernel text, an alias of RAM.
  std::uint64_t kimg_begin = 0, kimg_end = 0;
  if (const LoadSegment* seg = ctx.core->kernel_text()) {
    kimg_begin = std::min(seg->paddr / B, max_mapnr);
    kimg_end = std::min((seg->paddr + seg->memsz + B - 1) / B, max_mapnr);
  }

  enum class Phase { kernel_image, kernel_data, rest };
  Phase phase = Phase::kernel_image;
  Bitmap important, selected;
  std::uint64_t cycle_begin = 0, cursor = 0, cycle_end = 0;
  std::uint64_t rank_pfn = 0, rank_value = 0; // rank of rank_pfn = dumpable pages before it
  bool have_cycle = false;
  Status fill_error;
  auto next_cycle = [&]() -> bool {
    while (cycle_begin < max_mapnr) {
      const std::uint64_t c = cycle_begin / cycle, e = std::min(max_mapnr, cycle_begin + cycle);
      const std::uint64_t b0 = cycle_begin;
      cycle_begin = e;
      if (phase == Phase::kernel_image && (e <= kimg_begin || b0 >= kimg_end))
        continue;
      const bool counting = phase == Phase::kernel_data;
      auto st = filter.build(b0, e, ram, dumpable, counting ? &stats.excluded : nullptr,
                             counting ? &stats.warnings : nullptr,
                             phase == Phase::kernel_image ? nullptr : &important);
      if (st && phase != Phase::rest) {
        st = sink.write_at(bitmap1_off + b0 / 8, ram.bytes(), ram.byte_size());
        if (st)
          st = sink.write_at(bitmap2_off + b0 / 8, dumpable.bytes(), dumpable.byte_size());
      }
      if (!st) {
        fill_error = std::move(st);
        return false;
      }
      if (counting)
        stats.ram_pages += ram.popcount();
      // Word-wise selection of this phase's pages (the bitmaps share the cycle's window).
      selected = dumpable;
      if (phase == Phase::kernel_image) {
        selected.clear_range(b0, kimg_begin);
        selected.clear_range(kimg_end, e);
      } else {
        selected.intersect(important, /*invert=*/phase == Phase::rest);
        selected.clear_range(kimg_begin, kimg_end);
      }
      rank_value = 0;
      for (std::uint64_t k = 0; k < c; ++k)
        rank_value += cycle_counts[k];
      rank_pfn = b0;
      cursor = b0;
      cycle_end = e;
      have_cycle = true;
      return true;
    }
    return false;
  };

  DedupTable dedup(ctx.dedup_log2);
  PipelineOptions po;
  po.hash_pages = ctx.dedup;
  po.compression = ctx.compression;
  po.zstd_level = ctx.zstd_level;
  po.threads = ctx.threads;
  po.detect_zero = share_zero;
  po.page_size = B;
  po.read_mode = ctx.read_mode;
  PagePipeline pipe(*ctx.core, po);

  std::uint64_t done = 0;
  auto fill = [&](Batch& b) -> bool {
    for (;;) {
      if (!have_cycle && !next_cycle())
        return false;
      if (fill_batch_from_bitmap(selected, cursor, b, cycle_end, ctx.batch_pages)) {
        for (auto p : b.pfns) {
          rank_value += dumpable.count_range(rank_pfn, p);
          rank_pfn = p;
          b.ranks.push_back(rank_value);
        }
        return true;
      }
      have_cycle = false;
    }
  };
  // Identical pages share one payload (dedup_table.hpp): the writer alone decides, in output
  // order, after comparing the pages, so the output does not depend on worker timing.
  std::vector<std::uint8_t> page_a(B), page_b(B);
  auto same_content = [&](std::uint64_t pfn_a, std::uint64_t pfn_b) {
    return ctx.core->read_phys(pfn_a * B, page_a.data(), B) &&
           ctx.core->read_phys(pfn_b * B, page_b.data(), B) &&
           std::memcmp(page_a.data(), page_b.data(), B) == 0;
  };
  auto put_payload = [&](std::uint64_t pfn, std::uint64_t hash, const std::uint8_t* p,
                         std::uint32_t size, std::uint32_t flags, kdump::PageDesc& d) {
    d.offset = static_cast<std::int64_t>(data_cur);
    d.size = size;
    d.flags = flags;
    data_buf.insert(data_buf.end(), p, p + size);
    data_cur += size;
    ++stats.written_pages;
    if (ctx.dedup)
      dedup.insert({hash, pfn, static_cast<std::uint64_t>(d.offset), size, flags});
  };
  auto share = [&](const DedupEntry& e, kdump::PageDesc& d) {
    d.offset = static_cast<std::int64_t>(e.offset);
    d.size = e.size;
    d.flags = e.flags;
    ++stats.shared_pages;
  };
  auto consume = [&](const Batch& b) -> Status {
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      const PageRecord& r = b.records[i];
      if (b.ranks[i] != desc_buf_rank + desc_buf.size()) {
        // A gap in rank order (pages of another phase): start a new descriptor run.
        CK_TRY(flush());
        desc_buf_rank = b.ranks[i];
      }
      kdump::PageDesc d{};
      switch (r.kind) {
      case PageRecord::Kind::zero:
        d.offset = static_cast<std::int64_t>(data_start);
        d.size = static_cast<std::uint32_t>(B);
        ++stats.excluded.zero;
        break;
      case PageRecord::Kind::unreadable:
        // offset 0: crash reports the page as missing instead of inventing content.
        ++stats.unreadable_pages;
        break;
      case PageRecord::Kind::data: {
        if (ctx.dedup) {
          auto e = dedup.find(r.hash);
          if (e && same_content(e->pfn, r.pfn)) {
            share(*e, d);
            break;
          }
        }
        put_payload(r.pfn, r.hash, b.data.data() + r.data_off, r.size, r.flags, d);
        break;
      }
      }
      desc_buf.push_back(d);
      ++descs_written;
    }
    done += b.records.size();
    // Data before descriptors: a descriptor on disk always points at written data.
    if (data_buf.size() >= kDataFlush || desc_buf.size() * sizeof(kdump::PageDesc) >= kDescFlush)
      CK_TRY(flush());
    if (ctx.progress)
      ctx.progress(done, num_dumpable);
    return {};
  };
  for (Phase ph : {Phase::kernel_image, Phase::kernel_data, Phase::rest}) {
    if (ph == Phase::rest && !filter.importance_differs())
      break; // nothing left over
    phase = ph;
    cycle_begin = 0;
    have_cycle = false;
    auto st = pipe.run(fill, consume);
    if (st)
      st = flush();
    if (!st) {
      if (st.error().category() == ErrorCategory::no_space && sink.file_fd() >= 0) {
        (void)flush();
        (void)sink.flush_staged();
        (void)drop_descriptors_past_data(sink.file_fd(), desc_off, num_dumpable, data_start + B);
      }
      return std::move(st).error();
    }
    if (!fill_error)
      return std::move(fill_error).error();
  }
  if (descs_written != num_dumpable)
    return Error(ErrorCategory::internal, "descriptor count changed between passes (" +
                                              std::to_string(num_dumpable) + " vs " +
                                              std::to_string(descs_written) + ")");
  stats.dumped_pages = num_dumpable;

  if (provisional) {
    // Every page on disk before the header says complete: a writer killed (or a power cut)
    // between the two leaves an .incomplete that says so, not one whose tail is missing.
    CK_TRY(sink.flush_staged());
    if (sink.file_fd() >= 0 && ::fdatasync(sink.file_fd()) != 0)
      return Error::from_errno(errno, "fdatasync").with_path(sink.name());
    h.status &= ~kdump::kStatusIncomplete;
    CK_TRY(sink.write_at(0, &h, sizeof h));
  }
  stats.bytes_written = data_cur;
  return {};
}

} // namespace crashkit::capture
