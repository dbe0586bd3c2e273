#pragma once
// What crashkit-capture prints: progress on stderr, makedumpfile's exclusion table, JSON.

#include <cstdint>
#include <string>

#include "crashkit/capture/capture_job.hpp"

namespace crashkit::cli {

/// Progress line on stderr (\r-updated on a terminal, a line per 10% otherwise).
class ProgressPrinter {
public:
  explicit ProgressPrinter(bool enabled, std::uint64_t page_size);
  void update(std::uint64_t done, std::uint64_t total);
  void finish();

private:
  bool enabled_, tty_;
  std::uint64_t page_size_;
  double t0_, last_ = 0;
  int last_decile_ = -1;
  bool printed_ = false;
};

/// The table makedumpfile prints at the end, plus written bytes, time and throughput.
std::string summary_table(const capture::CaptureStats& s, std::uint64_t page_size,
                          std::uint64_t output_bytes);
std::string summary_json(const capture::CaptureStats& s, std::uint64_t output_bytes,
                         const std::string& output, const capture::CaptureRequest& req);

} // namespace crashkit::cli
