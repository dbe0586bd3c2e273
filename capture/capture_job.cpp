#include "crashkit/capture/capture_job.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "crashkit/base/io.hpp"
#include "writers.hpp"

namespace crashkit::capture {

Result<CaptureStats> run_capture(const CaptureRequest& req, OutputSink& sink,
                                 const ProgressFn& progress) {
  auto dump = CK_TRY(open_dump(req.vmcore));
  return run_capture(req, dump, sink, progress);
}

Result<CaptureStats> run_capture(const CaptureRequest& req, OpenDump& dump, OutputSink& sink,
                                 const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  CaptureStats stats;
  const VmcoreFile& core = *dump.core;
  const Vmcoreinfo& info = dump.info;
  stats.osrelease = info.osrelease();
  if (info.empty())
    stats.warnings.push_back(req.vmcore + ": no VMCOREINFO note");

  KernelMemory* mem = nullptr;
  const ArchInfo* arch = arch_for_machine(core.identity().machine);
  if (!arch) {
    stats.warnings.push_back("not an x86_64 vmcore (e_machine " +
                             std::to_string(core.identity().machine) +
                             "): only zero pages can be excluded");
  } else if (!info.empty()) {
    if (dump.mem)
      mem = dump.mem.get();
    else if (dump.mem_error)
      stats.warnings.push_back(dump.mem_error->message());
  }
  auto filter = CK_TRY(PageFilter::create(core, info, mem, req.dump_level, stats.warnings));
  stats.dump_level = filter->dump_level();
  stats.requested_dump_level = req.dump_level;
  // Every warning so far is about what the filter can decide: the reasons for a lower level.
  if (stats.dump_level != (req.dump_level & 31))
    stats.level_reasons = stats.warnings;
  stats.max_mapnr = filter->max_mapnr();
  for (const auto& w : stats.warnings)
    spdlog::warn("{}", w);
  const std::size_t warned = stats.warnings.size();

  CaptureContext ctx;
  ctx.core = &core;
  ctx.info = &info;
  ctx.arch = arch;
  ctx.mem = mem;
  ctx.filter = filter.get();
  ctx.threads = req.threads ? req.threads : online_cpus();
  ctx.compression = req.compression;
  ctx.zstd_level = req.zstd_level;
  ctx.read_mode = req.read_mode;
  ctx.dedup = req.dedup;
  ctx.batch_pages = req.low_memory ? kLowMemoryBatchPages : kBatchPages;
  ctx.dedup_log2 = req.low_memory ? kLowMemoryDedupLog2 : kDedupLog2;
  ctx.progress = progress;

  Status st =
      req.format == DumpFormat::kdump ? write_kdump(ctx, sink, stats) : write_elf(ctx, sink, stats);
  for (std::size_t i = warned; i < stats.warnings.size(); ++i)
    spdlog::warn("{}", stats.warnings[i]);
  if (!st)
    return std::move(st).error();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

} // namespace crashkit::capture
