#pragma once
/// Per-page compression exactly as kdump readers expect: each page independent (random
/// access), zlib level 1 stream, LZO1X-1, raw snappy block, or one zstd level-1 frame. A page
/// that does not shrink is stored raw (flags 0). One instance per thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crashkit::capture {

enum class Compression { none, zlib, lzo, snappy, zstd };

/// kdump page_desc / header status flag for a method (0 for none).
std::uint32_t kdump_flag(Compression c);
std::optional<Compression> parse_compression(const std::string& name);
const char* compression_name(Compression c);

class PageCompressor {
public:
  /// zstd_level applies to zstd only (makedumpfile uses 1; negative levels trade size for speed).
  PageCompressor(Compression c, std::size_t page_size, int zstd_level = 1);
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  struct Output {
    const std::uint8_t* data; ///< compressed bytes, or the input page when stored raw
    std::uint32_t size;
    std::uint32_t flags; ///< kdump_flag(method) or 0 when raw
  };
  /// Compresses one page; never fails (falls back to raw).
  Output compress(const std::uint8_t* page);

  /// Decompresses (for tests and verification); returns false on a corrupt payload.
  static bool decompress(std::uint32_t flags, const std::uint8_t* in, std::size_t in_len,
                         std::uint8_t* out, std::size_t page_size);

private:
  struct Impl;
  Compression method_;
  std::size_t page_size_;
  std::unique_ptr<Impl> impl_;
  std::vector<std::uint8_t> out_;
};

} // namespace crashkit::capture
