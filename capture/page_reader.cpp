#include "crashkit/capture/page_reader.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <mutex>

#include "crashkit/base/io.hpp"

namespace crashkit::capture {
namespace {

constexpr std::uint64_t kWindow = 4ULL << 20;
constexpr std::uint64_t kReadWindow = 1ULL << 20;

// SIGBUS on a mapped page that cannot be read (a regular-file copy on a failing disk) must
// become "unreadable page", not a dead capture. The handler jumps back only for the thread that
// armed it; any other SIGBUS gets the default action.
thread_local sigjmp_buf* t_jump = nullptr;
std::once_flag g_handler_once;

void on_sigbus(int sig, siginfo_t*, void*) {
  if (t_jump)
    siglongjmp(*t_jump, 1);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_handler() {
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, nullptr);
}

// Touches the first byte of every 4 KiB unit; returns false when that faulted.
bool touch_guarded(const std::uint8_t* p, std::size_t n) {
  sigjmp_buf jb;
  // savemask 0: saving the mask costs a syscall per page; SA_NODEFER keeps SIGBUS unblocked.
  if (sigsetjmp(jb, 0) != 0) {
    t_jump = nullptr;
    return false;
  }
  t_jump = &jb;
  for (std::size_t i = 0; i < n; i += 4096) {
    volatile std::uint8_t x = p[i];
    (void)x;
  }
  t_jump = nullptr;
  return true;
}

} // namespace

PageReader::PageReader(const VmcoreFile& core, std::uint64_t page_size, ReadMode mode)
    : core_(core), page_size_(page_size),
      use_mmap_(mode == ReadMode::mmap ||
                (mode == ReadMode::automatic && !core.is_regular_file())) {
  std::call_once(g_handler_once, install_handler);
  buf_.resize(page_size_);
}

PageReader::~PageReader() {
  unmap();
}

void PageReader::unmap() {
  if (win_)
    ::munmap(win_, win_len_);
  win_ = nullptr;
  win_len_ = 0;
}

bool PageReader::map_window(std::uint64_t file_off) {
  unmap();
  const std::uint64_t start = file_off & ~(kWindow - 1);
  // /proc/vmcore refuses a mapping that extends past its size.
  std::uint64_t len = kWindow;
  if (core_.file_size() > start && core_.file_size() - start < len)
    len = (core_.file_size() - start + 4095) & ~4095ULL;
  void* p = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, core_.fd(), static_cast<off_t>(start));
  if (p == MAP_FAILED) {
    use_mmap_ = false; // /proc/vmcore before 3.11, or a pipe-like input
    return false;
  }
  ::madvise(p, len, MADV_SEQUENTIAL);
  win_ = static_cast<std::uint8_t*>(p);
  win_off_ = start;
  win_len_ = len;
  return true;
}

bool PageReader::fill_window(std::uint64_t file_off) {
  // Adapt the read size to the access pattern: a dense run of dumpable pages reads 1 MiB at a
  // time, a sparse one (level 31 leaves scattered kernel pages) shrinks towards one page so we
  // do not copy what nobody asked for.
  const std::uint64_t window_pages = rwin_ / page_size_;
  if (rbuf_valid_) {
    if (rused_ * 4 < window_pages && rwin_ > page_size_)
      rwin_ /= 2;
    else if (rused_ * 4 >= window_pages * 3 && rwin_ < kReadWindow)
      rwin_ *= 2;
  }
  rbuf_.resize(kReadWindow);
  auto n = pread_some(core_.fd(), rbuf_.data(), rwin_, file_off, core_.path());
  rbuf_valid_ = false;
  rused_ = 0;
  if (!n)
    return false; // EIO somewhere in the window: the caller goes page by page
  rbuf_off_ = file_off;
  rbuf_len_ = *n;
  rbuf_valid_ = true;
  return true;
}

bool PageReader::in_hole(std::uint64_t off) {
  if (!core_.is_regular_file())
    return false;
  if (off < extents_from_ || off + page_size_ > extents_to_) {
    // Refresh the extent list for the 4 MiB around off.
    data_extents_.clear();
    extents_from_ = off & ~(kWindow - 1);
    extents_to_ = extents_from_ + kWindow;
    std::uint64_t pos = extents_from_;
    while (pos < extents_to_) {
      off_t d = ::lseek(core_.fd(), static_cast<off_t>(pos), SEEK_DATA);
      if (d < 0) {
        if (errno == ENXIO)
          break; // no more data: rest is hole
        data_extents_.clear();
        data_extents_.emplace_back(extents_from_, extents_to_); // can't tell: treat as data
        break;
      }
      if (static_cast<std::uint64_t>(d) >= extents_to_)
        break;
      off_t h = ::lseek(core_.fd(), d, SEEK_HOLE);
      std::uint64_t hend = h < 0 ? extents_to_ : static_cast<std::uint64_t>(h);
      data_extents_.emplace_back(static_cast<std::uint64_t>(d), std::min(hend, extents_to_));
      pos = hend;
    }
  }
  for (const auto& [a, b] : data_extents_)
    if (off < b && off + page_size_ > a)
      return false;
  return true;
}

PageReader::Outcome PageReader::read_slow(std::uint64_t pfn, const std::uint8_t** out) {
  // holes_as_zero: a page at a segment edge (RAM ending at 0x9fc00) keeps its real bytes and
  // reads the rest as zero, as the kdump readers do.
  auto st = core_.read_phys(pfn * page_size_, buf_.data(), page_size_, true);
  if (!st)
    return Outcome::unreadable;
  *out = buf_.data();
  return Outcome::data;
}

PageReader::Outcome PageReader::read(std::uint64_t pfn, const std::uint8_t** out) {
  *out = nullptr;
  const std::uint64_t paddr = pfn * page_size_;
  const LoadSegment* s = core_.segment_for(paddr);
  // Partial pages at a segment edge and pages in p_filesz..p_memsz go the careful way.
  if (!s || paddr + page_size_ > s->paddr + s->filesz) {
    if (s && paddr >= s->paddr + s->filesz)
      return Outcome::zero_hole;
    return read_slow(pfn, out);
  }
  const std::uint64_t off = s->offset + (paddr - s->paddr);
  if (in_hole(off))
    return Outcome::zero_hole;
  if (!use_mmap_) {
    if (!(rbuf_valid_ && off >= rbuf_off_ && off + page_size_ <= rbuf_off_ + rbuf_len_)) {
      // A window that failed (EIO somewhere in it) is not read again: go page by page.
      if (off >= bad_from_ && off < bad_to_)
        return read_slow(pfn, out);
      if (!fill_window(off) || off + page_size_ > rbuf_off_ + rbuf_len_) {
        bad_from_ = off;
        bad_to_ = off + rwin_;
        return read_slow(pfn, out);
      }
    }
    ++rused_;
    *out = rbuf_.data() + (off - rbuf_off_);
    return Outcome::data;
  }
  if (!(win_ && off >= win_off_ && off + page_size_ <= win_off_ + win_len_)) {
    // A page straddling the window end (file offsets not page aligned) is read with pread.
    const std::uint64_t start = off & ~(kWindow - 1);
    if (off + page_size_ > start + kWindow)
      return read_slow(pfn, out);
    if (!map_window(off) || off + page_size_ > win_off_ + win_len_)
      return read_slow(pfn, out);
  }
  const std::uint8_t* p = win_ + (off - win_off_);
  if (!touch_guarded(p, page_size_)) {
    // The mapping faulted: find out with pread whether the page is really unreadable.
    unmap();
    return read_slow(pfn, out);
  }
  *out = p;
  return Outcome::data;
}

bool PageReader::is_zero(const std::uint8_t* p, std::size_t n) {
  // Word-wise OR of 64 bytes at a time; the compiler vectorises this.
  const std::uint8_t* end = p + n;
  for (; p + 64 <= end; p += 64) {
    std::uint64_t w[8];
    std::memcpy(w, p, 64);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0)
      return false;
  }
  for (; p < end; ++p)
    if (*p)
      return false;
  return true;
}

} // namespace crashkit::capture
