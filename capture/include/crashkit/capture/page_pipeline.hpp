#pragma once
/// Reads, zero-checks and compresses pages on N worker threads while the calling thread writes
/// finished batches strictly in submission order, so the output is byte-identical whatever the
/// thread count. Workers block on condition variables (no spinning): with as many threads as
/// CPUs the writer still gets its share.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/page_compressor.hpp"
#include "crashkit/capture/page_reader.hpp"
#include "crashkit/capture/vmcore_file.hpp"

namespace crashkit::capture {

class PageReader;

struct PageRecord {
  enum class Kind : std::uint8_t { data, zero, unreadable };
  std::uint64_t pfn = 0;
  Kind kind = Kind::data;
  std::uint32_t size = 0;  ///< payload bytes in Batch::data
  std::uint32_t flags = 0; ///< kdump compression flag, 0 = raw
  std::uint64_t data_off = 0;
  std::uint64_t hash = 0; ///< content hash of data pages (when hash_pages)
};

struct Batch {
  std::vector<std::uint64_t> pfns;  ///< filled by the producer, ascending
  std::vector<std::uint64_t> ranks; ///< producer's bookkeeping (kdump descriptor index)
  std::vector<PageRecord> records;  ///< one per pfn, filled by a worker
  std::vector<std::uint8_t> data;   ///< payloads back to back
  void clear() {
    pfns.clear();
    ranks.clear();
    records.clear();
    data.clear();
  }
};

struct PipelineOptions {
  Compression compression = Compression::none;
  int zstd_level = 1;
  unsigned threads = 1;
  bool detect_zero = true; ///< classify all-zero pages as zero (no payload)
  bool keep_data = true;   ///< false: only classify (ELF pre-pass)
  ReadMode read_mode = ReadMode::automatic;
  std::uint64_t page_size = 4096;
  /// Workers hash data pages for the writer's identical-page table.
  bool hash_pages = false;
};

class PagePipeline {
public:
  PagePipeline(const VmcoreFile& core, PipelineOptions opt);
  ~PagePipeline();

  /// Runs until fill() returns false (no more batches) and all batches are consumed, or until
  /// consume() fails (its error is returned; in-flight work is discarded).
  Status run(const std::function<bool(Batch&)>& fill,
             const std::function<Status(const Batch&)>& consume);

private:
  struct Slot {
    Batch batch;
    std::uint64_t seq = 0;
    bool done = false;
  };
  void worker_main(unsigned idx);
  void process(Batch& b, PageReader* reader, PageCompressor* comp);

  const VmcoreFile& core_;
  PipelineOptions opt_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  std::deque<Slot*> queue_;
  bool stop_ = false;
};

} // namespace crashkit::capture
