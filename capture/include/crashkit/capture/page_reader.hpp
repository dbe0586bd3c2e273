#pragma once
/// Reads whole pages of the vmcore for one thread. /proc/vmcore is read through mmap windows
/// (its read() path ioremaps every page; mmap maps 4 MiB at once); a regular-file copy is read
/// with one pread per 1 MiB window into our buffer (no page faults, no munmap shootdowns between
/// threads); either falls back to a pread per page. On a regular file, holes (SEEK_DATA) are
/// known to be zero without reading them. A page that faults (SIGBUS) or returns EIO is
/// reported as unreadable instead of ending the dump.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "crashkit/capture/vmcore_file.hpp"

namespace crashkit::capture {

/// automatic: mmap for /proc/vmcore (and any non-regular file), pread windows for a regular file.
enum class ReadMode { automatic, mmap, pread };

class PageReader {
public:
  enum class Outcome { data, zero_hole, unreadable };

  PageReader(const VmcoreFile& core, std::uint64_t page_size, ReadMode mode = ReadMode::automatic);
  ~PageReader();
  PageReader(const PageReader&) = delete;
  PageReader& operator=(const PageReader&) = delete;

  /// Reads page pfn (which must be RAM). On data, *out points at page_size bytes valid until
  /// the next call. zero_hole: the page is known zero (file hole) and *out is nullptr.
  Outcome read(std::uint64_t pfn, const std::uint8_t** out);

  /// True when the bytes are all zero.
  static bool is_zero(const std::uint8_t* p, std::size_t n);

private:
  bool map_window(std::uint64_t file_off);
  bool fill_window(std::uint64_t file_off);
  void unmap();
  bool in_hole(std::uint64_t file_off);
  Outcome read_slow(std::uint64_t pfn, const std::uint8_t** out);

  const VmcoreFile& core_;
  std::uint64_t page_size_;
  bool use_mmap_;
  std::uint8_t* win_ = nullptr;
  std::uint64_t win_off_ = 0, win_len_ = 0;
  // Data extents [start, end) of the file inside the current window (regular files only).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> data_extents_;
  std::uint64_t extents_from_ = 0, extents_to_ = 0;
  std::vector<std::uint8_t> buf_;
  // pread window (regular files)
  std::vector<std::uint8_t> rbuf_;
  std::uint64_t rbuf_off_ = 0, rbuf_len_ = 0;
  bool rbuf_valid_ = false;
  std::uint64_t rwin_ = 1u << 20;           // current read size, adapted in fill_window
  std::uint64_t rused_ = 0;                 // pages served from the current window
  std::uint64_t bad_from_ = 0, bad_to_ = 0; // last window that failed with EIO
};

} // namespace crashkit::capture
