#include "crashkit/capture/page_pipeline.hpp"

#include <cstring>
#include <memory>

#include <xxhash.h>

#include "crashkit/capture/dedup_table.hpp"
#include "crashkit/capture/page_reader.hpp"

namespace crashkit::capture {

std::uint64_t page_hash(const std::uint8_t* p, std::size_t n) {
  return XXH3_64bits(p, n);
}

PagePipeline::PagePipeline(const VmcoreFile& core, PipelineOptions opt) : core_(core), opt_(opt) {
  if (opt_.threads == 0)
    opt_.threads = 1;
}

PagePipeline::~PagePipeline() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_work_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void PagePipeline::process(Batch& b, PageReader* reader, PageCompressor* comp) {
  b.records.resize(b.pfns.size());
  b.data.clear();
  // Exactly one batch's worst case: growth by doubling would leave every slot's buffer at twice
  // that, memory a capture kernel in a small reservation does not have.
  b.data.reserve(b.pfns.size() * opt_.page_size);
  for (std::size_t i = 0; i < b.pfns.size(); ++i) {
    PageRecord& r = b.records[i];
    r = PageRecord{};
    r.pfn = b.pfns[i];
    const std::uint8_t* p = nullptr;
    auto outcome = reader->read(r.pfn, &p);
    if (outcome == PageReader::Outcome::unreadable) {
      r.kind = PageRecord::Kind::unreadable;
      continue;
    }
    const bool zero =
        outcome == PageReader::Outcome::zero_hole || PageReader::is_zero(p, opt_.page_size);
    if (zero && opt_.detect_zero) {
      r.kind = PageRecord::Kind::zero;
      continue;
    }
    if (!opt_.keep_data)
      continue;
    static const std::vector<std::uint8_t> kZeros(65536, 0);
    if (!p)
      p = kZeros.data(); // a hole kept as data (zero pages not excluded)
    if (opt_.hash_pages)
      r.hash = page_hash(p, opt_.page_size);
    auto out = comp->compress(p);
    r.data_off = b.data.size();
    r.size = out.size;
    r.flags = out.flags;
    b.data.insert(b.data.end(), out.data, out.data + out.size);
  }
}

void PagePipeline::worker_main(unsigned) {
  // Each worker owns its mmap window and compressor context.
  PageReader reader(core_, opt_.page_size, opt_.read_mode);
  PageCompressor comp(opt_.compression, opt_.page_size, opt_.zstd_level);
  for (;;) {
    Slot* s = nullptr;
    {
      std::unique_lock lk(mu_);
      cv_work_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (stop_ && queue_.empty())
        return;
      s = queue_.front();
      queue_.pop_front();
    }
    process(s->batch, &reader, &comp);
    {
      std::lock_guard lk(mu_);
      s->done = true;
    }
    cv_done_.notify_all();
  }
}

Status PagePipeline::run(const std::function<bool(Batch&)>& fill,
                         const std::function<Status(const Batch&)>& consume) {
  // Enough batches in flight to keep every worker busy while the writer drains one.
  const std::size_t depth = opt_.threads * 2 + 2;
  std::vector<std::unique_ptr<Slot>> slots;
  for (std::size_t i = 0; i < depth; ++i)
    slots.push_back(std::make_unique<Slot>());
  if (threads_.empty())
    for (unsigned i = 0; i < opt_.threads; ++i)
      threads_.emplace_back(&PagePipeline::worker_main, this, i);

  std::uint64_t next_submit = 0, next_consume = 0;
  bool more = true;
  Status result;
  while (true) {
    while (more && next_submit - next_consume < depth) {
      Slot* s = slots[next_submit % depth].get();
      s->batch.clear();
      if (!fill(s->batch)) {
        more = false;
        break;
      }
      {
        std::lock_guard lk(mu_);
        s->seq = next_submit;
        s->done = false;
        queue_.push_back(s);
      }
      cv_work_.notify_one();
      ++next_submit;
    }
    if (next_consume == next_submit)
      break;
    Slot* s = slots[next_consume % depth].get();
    {
      std::unique_lock lk(mu_);
      cv_done_.wait(lk, [&] { return s->done; });
    }
    if (result) {
      auto st = consume(s->batch);
      if (!st) {
        result = std::move(st);
        more = false; // stop producing; drain what is in flight
      }
    }
    ++next_consume;
  }
  return result;
}

} // namespace crashkit::capture
