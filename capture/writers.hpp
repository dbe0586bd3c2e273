#pragma once
// Private to capture/: what the format writers share.

#include <memory>

#include "crashkit/capture/arch.hpp"
#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/page_filter.hpp"
#include "crashkit/capture/page_pipeline.hpp"
#include "crashkit/capture/page_reader.hpp"
#include "crashkit/capture/vmcore_file.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

/// Batch size: 256 pages normally (1 MiB of page data per batch), 32 in low-memory mode.
inline constexpr std::size_t kBatchPages = 256;
inline constexpr std::size_t kLowMemoryBatchPages = 32;
/// Identical-page table size (log2 of 32-byte entries): 2 MiB normally, 128 KiB low-memory.
inline constexpr unsigned kDedupLog2 = 16;
inline constexpr unsigned kLowMemoryDedupLog2 = 12;

struct CaptureContext {
  const VmcoreFile* core = nullptr;
  const Vmcoreinfo* info = nullptr;
  const ArchInfo* arch = nullptr; ///< null when capture does not know the core's architecture
  KernelMemory* mem = nullptr;    // null when translation is impossible
  PageFilter* filter = nullptr;
  unsigned threads = 1;
  Compression compression = Compression::zstd;
  int zstd_level = 1;
  ReadMode read_mode = ReadMode::automatic;
  bool dedup = true;
  /// Chosen once by run_capture from CaptureRequest::low_memory.
  std::size_t batch_pages = kBatchPages;
  unsigned dedup_log2 = kDedupLog2;
  ProgressFn progress;
};

Status write_kdump(const CaptureContext& ctx, OutputSink& sink, CaptureStats& stats);
Status write_elf(const CaptureContext& ctx, OutputSink& sink, CaptureStats& stats);

/// Fills the batch with up to max_pages dumpable PFNs from `bm` starting at *cursor, keeping
/// the PFN span of one batch small enough for one mmap window.
/// max_pages: CaptureContext::batch_pages.
bool fill_batch_from_bitmap(const Bitmap& bm, std::uint64_t& cursor, Batch& b, std::uint64_t limit,
                            std::size_t max_pages);

} // namespace crashkit::capture
