#include "crashkit/capture/page_compressor.hpp"

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace crashkit::capture {
namespace {

constexpr std::uint32_t kFlagZlib = 0x01, kFlagLzo = 0x02, kFlagSnappy = 0x04, kFlagZstd = 0x20;

} // namespace

std::uint32_t kdump_flag(Compression c) {
  switch (c) {
  case Compression::zlib:
    return kFlagZlib;
  case Compression::lzo:
    return kFlagLzo;
  case Compression::snappy:
    return kFlagSnappy;
  case Compression::zstd:
    return kFlagZstd;
  case Compression::none:
    return 0;
  }
  return 0;
}

std::optional<Compression> parse_compression(const std::string& n) {
  if (n == "zstd")
    return Compression::zstd;
  if (n == "zlib")
    return Compression::zlib;
  if (n == "lzo")
    return Compression::lzo;
  if (n == "snappy")
    return Compression::snappy;
  if (n == "none")
    return Compression::none;
  return std::nullopt;
}

const char* compression_name(Compression c) {
  switch (c) {
  case Compression::zlib:
    return "zlib";
  case Compression::lzo:
    return "lzo";
  case Compression::snappy:
    return "snappy";
  case Compression::zstd:
    return "zstd";
  case Compression::none:
    return "none";
  }
  return "?";
}

struct PageCompressor::Impl {
  z_stream zs{};
  bool zs_init = false;
  ZSTD_CCtx* zctx = nullptr;
  std::vector<std::uint8_t> lzo_wrk;
  ~Impl() {
    if (zs_init)
      deflateEnd(&zs);
    if (zctx)
      ZSTD_freeCCtx(zctx);
  }
};

PageCompressor::PageCompressor(Compression c, std::size_t page_size, int zstd_level)
    : method_(c), page_size_(page_size), impl_(std::make_unique<Impl>()) {
  std::size_t bound = page_size;
  switch (c) {
  case Compression::zlib:
    deflateInit(&impl_->zs, Z_BEST_SPEED);
    impl_->zs_init = true;
    bound = compressBound(static_cast<uLong>(page_size));
    break;
  case Compression::lzo:
    lzo_init();
    impl_->lzo_wrk.resize(LZO1X_1_MEM_COMPRESS);
    bound = page_size + page_size / 16 + 64 + 3;
    break;
  case Compression::snappy:
    bound = snappy_max_compressed_length(page_size);
    break;
  case Compression::zstd:
    impl_->zctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(impl_->zctx, ZSTD_c_compressionLevel, zstd_level);
    bound = ZSTD_compressBound(page_size);
    break;
  case Compression::none:
    break;
  }
  out_.resize(bound);
}

PageCompressor::~PageCompressor() = default;

PageCompressor::Output PageCompressor::compress(const std::uint8_t* page) {
  const Output raw{page, static_cast<std::uint32_t>(page_size_), 0};
  std::size_t n = 0;
  switch (method_) {
  case Compression::none:
    return raw;
  case Compression::zlib: {
    z_stream& zs = impl_->zs;
    deflateReset(&zs);
    zs.next_in = const_cast<Bytef*>(page);
    zs.avail_in = static_cast<uInt>(page_size_);
    zs.next_out = out_.data();
    zs.avail_out = static_cast<uInt>(out_.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
      return raw;
    n = zs.total_out;
    break;
  }
  case Compression::lzo: {
    lzo_uint len = out_.size();
    if (lzo1x_1_compress(page, page_size_, out_.data(), &len, impl_->lzo_wrk.data()) != LZO_E_OK)
      return raw;
    n = len;
    break;
  }
  case Compression::snappy: {
    std::size_t len = out_.size();
    if (snappy_compress(reinterpret_cast<const char*>(page), page_size_,
                        reinterpret_cast<char*>(out_.data()), &len) != SNAPPY_OK)
      return raw;
    n = len;
    break;
  }
  case Compression::zstd: {
    std::size_t r = ZSTD_compress2(impl_->zctx, out_.data(), out_.size(), page, page_size_);
    if (ZSTD_isError(r))
      return raw;
    n = r;
    break;
  }
  }
  if (n == 0 || n >= page_size_)
    return raw;
  return {out_.data(), static_cast<std::uint32_t>(n), kdump_flag(method_)};
}

bool PageCompressor::decompress(std::uint32_t flags, const std::uint8_t* in, std::size_t in_len,
                                std::uint8_t* out, std::size_t page_size) {
  if (flags == 0) {
    if (in_len != page_size)
      return false;
    std::memcpy(out, in, page_size);
    return true;
  }
  if (flags & kFlagZlib) {
    uLongf len = static_cast<uLongf>(page_size);
    return uncompress(out, &len, in, static_cast<uLong>(in_len)) == Z_OK && len == page_size;
  }
  if (flags & kFlagLzo) {
    lzo_uint len = page_size;
    return lzo1x_decompress_safe(in, in_len, out, &len, nullptr) == LZO_E_OK && len == page_size;
  }
  if (flags & kFlagSnappy) {
    std::size_t len = page_size;
    return snappy_uncompress(reinterpret_cast<const char*>(in), in_len,
                             reinterpret_cast<char*>(out), &len) == SNAPPY_OK &&
           len == page_size;
  }
  if (flags & kFlagZstd) {
    std::size_t r = ZSTD_decompress(out, page_size, in, in_len);
    return !ZSTD_isError(r) && r == page_size;
  }
  return false;
}

} // namespace crashkit::capture
