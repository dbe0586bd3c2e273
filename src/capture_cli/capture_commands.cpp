#include "capture_commands.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "capture_report.hpp"
#include "crashkit/capture/dmesg.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture/output_sink.hpp"

namespace crashkit::cli {
namespace {

int fail(const Error& e) {
  std::fprintf(stderr, "crashkit-capture: %s\n", e.message().c_str());
  return exit_code_for(e.category());
}

int run_dmesg(const CaptureOptions& o) {
  auto dump = capture::open_dump(o.request.vmcore);
  if (!dump)
    return fail(dump.error());
  if (dump->info.empty())
    return fail(Error(ErrorCategory::data, "no VMCOREINFO note: the log cannot be located")
                    .with_path(o.request.vmcore));
  if (!dump->mem)
    return fail(Error(*dump->mem_error).with_path(o.request.vmcore));
  auto saved = capture::save_dmesg(*dump->mem, dump->info, o.output, o.force);
  if (!saved) {
    Error e = std::move(saved).error();
    return fail(e.path().empty() ? std::move(e).with_path(o.request.vmcore) : e);
  }
  return 0;
}

int run_dump(const CaptureOptions& o) {
  // Open the input before creating OUTPUT.incomplete: a missing or malformed vmcore must not
  // leave an empty dump file behind.
  auto dump = capture::open_dump(o.request.vmcore);
  if (!dump)
    return fail(dump.error());
  for (std::size_t attempt = 0; attempt < o.dump_levels.size(); ++attempt) {
    capture::CaptureRequest req = o.request;
    req.dump_level = o.dump_levels[attempt];
    std::unique_ptr<capture::FileSink> file;
    std::unique_ptr<capture::FlatSink> flat;
    capture::OutputSink* sink = nullptr;
    if (!o.output.empty()) {
      // Dump files bypass the page cache: the capture kernel has little memory to spare.
      auto f = capture::FileSink::create(o.output, o.force, /*direct_io=*/!o.flat);
      if (!f)
        return fail(f.error());
      file = std::move(f).value();
      sink = file.get();
    }
    if (o.flat) {
      const int fd = file ? file->fd() : 1;
      if (!file && ::isatty(1))
        return fail(Error(ErrorCategory::usage,
                          "-F writes a binary stream to standard output, which is a terminal; "
                          "redirect it"));
      flat = std::make_unique<capture::FlatSink>(fd, file ? file->name() : "<stdout>");
      sink = flat.get();
    }
    ProgressPrinter progress(o.progress && o.message_level > 0, 4096);
    auto stats = capture::run_capture(
        req, *dump, *sink, [&](std::uint64_t d, std::uint64_t t) { progress.update(d, t); });
    progress.finish();
    if (!stats) {
      const Error& e = stats.error();
      if (file)
        (void)file->flush(); // keep what was staged: the partial dump stays readable
      if (e.category() == ErrorCategory::no_space && file) {
        if (attempt + 1 < o.dump_levels.size()) {
          std::fprintf(stderr,
                       "crashkit-capture: %s: disk full at dump level %d; retrying with level %d\n",
                       file->name().c_str(), req.dump_level, o.dump_levels[attempt + 1]);
          ::unlink(file->name().c_str());
          continue;
        }
        std::fprintf(stderr,
                     "crashkit-capture: %s\ncrashkit-capture: the partial dump is kept as %s "
                     "(flagged incomplete; crash opens it and reports missing pages)\n",
                     e.message().c_str(), file->name().c_str());
        return exit_code_for(e.category());
      }
      return fail(e);
    }
    if (flat)
      if (auto st = flat->finish(); !st)
        return fail(st.error());
    if (file)
      if (auto st = file->finish(); !st)
        return fail(st.error());
    const std::uint64_t out_bytes = sink->bytes_written();
    if (o.message_level > 0)
      std::fputs(summary_table(*stats, 4096, out_bytes).c_str(), stderr);
    if (o.json)
      std::fputs(summary_json(*stats, out_bytes, o.output, req).c_str(), stdout);
    if (stats->unreadable_pages) {
      std::fprintf(stderr,
                   "crashkit-capture: %llu pages could not be read (I/O error); they are "
                   "recorded as missing in the dump\n",
                   static_cast<unsigned long long>(stats->unreadable_pages));
      return capture::kExitUnreadablePages;
    }
    return 0;
  }
  return 1;
}

} // namespace

int run_capture_command(const CaptureOptions& o) {
  switch (o.mode) {
  case CaptureMode::reassemble: {
    auto st = capture::reassemble_flattened(0, "<stdin>", o.output, o.force);
    return st ? 0 : fail(st.error());
  }
  case CaptureMode::dmesg:
    return run_dmesg(o);
  case CaptureMode::flat_stdout:
  case CaptureMode::dump:
    return run_dump(o);
  }
  return 1;
}

} // namespace crashkit::cli
