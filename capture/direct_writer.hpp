#pragma once
// Private to capture/: sequential streams written with O_DIRECT.
//
// A dump is mostly two long sequential streams (page descriptors and payloads). Written through
// the page cache they cost a copy per byte and fill the capture kernel's little memory with
// dirty pages; with O_DIRECT the data goes straight from our buffers to the device. O_DIRECT
// needs block-aligned offsets and lengths, so each stream is staged in an aligned buffer and
// only whole blocks go out directly; the partial blocks at a stream's ends (and small
// scattered writes such as headers) go through the ordinary buffered descriptor.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::capture {

class DirectWriter {
public:
  /// direct_fd may be -1 (filesystem refused O_DIRECT): then everything is buffered.
  DirectWriter(int buffered_fd, int direct_fd, std::string path);
  ~DirectWriter();

  Status write_at(std::uint64_t off, const void* data, std::size_t len);
  /// Writes every staged byte (call before fdatasync).
  Status flush_all();

private:
  struct Region;
  Status flush_region(Region& r, bool everything);
  Status write_buffered(std::uint64_t off, const void* data, std::size_t len);
  Status write_direct(std::uint64_t off, const std::uint8_t* data, std::size_t len);

  int bfd_, dfd_;
  std::string path_;
  std::vector<std::unique_ptr<Region>> regions_;
  std::uint64_t tick_ = 0;
};

} // namespace crashkit::capture
