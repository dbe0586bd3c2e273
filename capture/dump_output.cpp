#include "crashkit/capture/dump_output.hpp"

#include <unistd.h>

#include <memory>

#include "crashkit/capture/output_sink.hpp"

namespace crashkit::capture {

Result<CaptureStats> dump_to_output(const CaptureRequest& req, const std::vector<int>& levels,
                                    OpenDump& dump, const DumpOutput& out, DumpedOutput& done,
                                    const ProgressFn& progress, const RetryNotice& on_retry) {
  const std::vector<int> tried = levels.empty() ? std::vector<int>{req.dump_level} : levels;
  for (std::size_t attempt = 0;; ++attempt) {
    done = DumpedOutput{};
    done.request = req;
    done.request.dump_level = tried[attempt];
    std::unique_ptr<FileSink> file;
    std::unique_ptr<FlatSink> flat;
    OutputSink* sink = nullptr;
    if (!out.path.empty()) {
      file = CK_TRY(FileSink::create(out.path, out.force, /*direct_io=*/!out.flat));
      done.staged = file->name();
      done.final_path = file->final_path();
      sink = file.get();
    }
    if (out.flat) {
      flat = file ? std::make_unique<FlatSink>(file->fd(), file->name())
                  : std::make_unique<FlatSink>(out.stream_fd, out.stream_name);
      sink = flat.get();
    }
    auto stats = run_capture(done.request, dump, *sink, progress);
    done.bytes = sink->bytes_written();
    if (!stats) {
      if (file)
        (void)file->flush(); // keep what was staged: the partial dump stays readable
      const bool retry =
          stats.error().category() == ErrorCategory::no_space && file && attempt + 1 < tried.size();
      if (!retry)
        return stats;
      if (on_retry)
        on_retry(file->name(), tried[attempt], tried[attempt + 1]);
      ::unlink(file->name().c_str());
      continue;
    }
    done.stats = *stats;
    if (flat)
      CK_TRY(flat->finish());
    if (file)
      CK_TRY(file->finish());
    done.bytes = sink->bytes_written();
    done.finished = true;
    return stats;
  }
}

} // namespace crashkit::capture
