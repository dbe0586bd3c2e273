#include "capture_report.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "crashkit/base/json_text.hpp"
#include "crashkit/capture/stats_json.hpp"

namespace crashkit::cli {
namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string line(const char* label, std::uint64_t v) {
  char b[128];
  std::snprintf(b, sizeof b, "%s: 0x%016llx\n", label, static_cast<unsigned long long>(v));
  return b;
}

} // namespace

ProgressPrinter::ProgressPrinter(bool enabled, std::uint64_t page_size)
    : enabled_(enabled || ::isatty(2)), tty_(::isatty(2)), page_size_(page_size), t0_(now()) {}

void ProgressPrinter::update(std::uint64_t done, std::uint64_t total) {
  if (!enabled_ || total == 0)
    return;
  const double t = now();
  const double frac = static_cast<double>(done) / static_cast<double>(total);
  const int decile = static_cast<int>(frac * 10);
  if (tty_ ? (t - last_ < 0.25 && done != total) : decile == last_decile_)
    return;
  last_ = t;
  last_decile_ = decile;
  const double el = t - t0_;
  const double mbs = el > 0 ? static_cast<double>(done * page_size_) / el / 1e6 : 0;
  const double eta = frac > 0 ? el / frac - el : 0;
  std::fprintf(stderr, "%sCopying pages: %5.1f%%  %7.1f MB/s  ETA %4.0fs%s", tty_ ? "\r" : "",
               frac * 100, mbs, eta, tty_ ? "" : "\n");
  printed_ = true;
}

void ProgressPrinter::finish() {
  if (enabled_ && tty_ && printed_)
    std::fputc('\n', stderr);
}

std::string summary_table(const capture::CaptureStats& s, std::uint64_t page_size,
                          std::uint64_t output_bytes) {
  const auto& e = s.excluded;
  const std::uint64_t ram = s.ram_pages;
  const std::uint64_t remaining = ram >= e.total() ? ram - e.total() : 0;
  std::string out;
  out += line("Original pages  ", ram);
  out += line("  Excluded pages   ", e.total());
  out += line("    Pages filled with zero  ", e.zero);
  out += line("    Non-private cache pages ", e.cache);
  out += line("    Private cache pages     ", e.cache_private);
  out += line("    User process data pages ", e.user);
  out += line("    Free pages              ", e.free);
  out += line("    Hwpoison pages          ", e.hwpoison);
  out += line("    Offline pages           ", e.offline);
  out += line("  Remaining pages  ", remaining);
  char b[256];
  std::snprintf(b, sizeof b, "  (The number of pages is reduced to %llu%%.)\n",
                static_cast<unsigned long long>(ram ? remaining * 100 / ram : 0));
  out += b;
  out += line("Memory Hole     ", s.max_mapnr >= ram ? s.max_mapnr - ram : 0);
  out += "--------------------------------------------------\n";
  out += line("Total pages     ", s.max_mapnr);
  if (s.unreadable_pages)
    out += line("Unreadable pages (EIO, recorded as missing)", s.unreadable_pages);
  if (s.shared_pages)
    out += line("Identical pages sharing a payload", s.shared_pages);
  const double mb = static_cast<double>(output_bytes) / 1e6;
  const double in_mb = static_cast<double>(ram * page_size) / 1e6;
  std::snprintf(b, sizeof b,
                "Pages written: %llu, output %.1f MB, %.2f s, %.0f MB/s of memory scanned, "
                "dump level %d\n",
                static_cast<unsigned long long>(s.written_pages), mb, s.seconds,
                s.seconds > 0 ? in_mb / s.seconds : 0.0, s.dump_level);
  out += b;
  if (s.dump_level != (s.requested_dump_level & 31)) {
    std::snprintf(b, sizeof b, "Dump level %d applied instead of the %d requested, because:\n",
                  s.dump_level, s.requested_dump_level);
    out += b;
    for (const auto& r : s.level_reasons)
      out += "  " + r + "\n";
  }
  return out;
}

std::string summary_json(const capture::CaptureStats& s, std::uint64_t output_bytes,
                         const std::string& output, const capture::CaptureRequest& req) {
  nlohmann::json j;
  j["output"] = output;
  j["osrelease"] = s.osrelease;
  capture::add_dump_level_json(j, s);
  j["compression"] = capture::compression_name(req.compression);
  j["format"] = req.format == capture::DumpFormat::elf ? "elf" : "kdump";
  j["pages"] = capture::page_counts_json(s);
  j["bytes_written"] = output_bytes;
  j["seconds"] = s.seconds;
  j["warnings"] = s.warnings;
  return json_text(j) + "\n";
}

} // namespace crashkit::cli
