#include "capture_commands.hpp"

#include <unistd.h>

#include <cstdio>
#include <optional>

#include "capture_report.hpp"
#include "crashkit/capture/dmesg.hpp"
#include "crashkit/capture/dump_output.hpp"
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
  if (o.flat && o.output.empty() && ::isatty(1))
    return fail(Error(ErrorCategory::usage,
                      "-F writes a binary stream to standard output, which is a terminal; "
                      "redirect it"));
  capture::DumpOutput out;
  out.path = o.output;
  out.force = o.force;
  out.flat = o.flat;
  capture::DumpedOutput done;
  std::optional<ProgressPrinter> progress;
  const auto new_progress = [&] { progress.emplace(o.progress && o.message_level > 0, 4096); };
  new_progress();
  auto stats = capture::dump_to_output(
      o.request, o.dump_levels, *dump, out, done,
      [&](std::uint64_t d, std::uint64_t t) { progress->update(d, t); },
      [&](const std::string& file, int level, int next) {
        progress->finish();
        std::fprintf(stderr,
                     "crashkit-capture: %s: disk full at dump level %d; retrying with level %d\n",
                     file.c_str(), level, next);
        new_progress();
      });
  progress->finish();
  if (!stats) {
    const Error& e = stats.error();
    if (e.category() == ErrorCategory::no_space && !done.staged.empty() && !done.stats) {
      std::fprintf(stderr,
                   "crashkit-capture: %s\ncrashkit-capture: the partial dump is kept as %s "
                   "(flagged incomplete; crash opens it and reports missing pages)\n",
                   e.message().c_str(), done.staged.c_str());
      return exit_code_for(e.category());
    }
    return fail(e);
  }
  if (o.message_level > 0)
    std::fputs(summary_table(*stats, 4096, done.bytes).c_str(), stderr);
  if (o.json)
    std::fputs(summary_json(*stats, done.bytes, o.output, done.request).c_str(), stdout);
  if (stats->unreadable_pages) {
    std::fprintf(stderr,
                 "crashkit-capture: %llu pages could not be read (I/O error); they are "
                 "recorded as missing in the dump\n",
                 static_cast<unsigned long long>(stats->unreadable_pages));
    return capture::kExitUnreadablePages;
  }
  return 0;
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
