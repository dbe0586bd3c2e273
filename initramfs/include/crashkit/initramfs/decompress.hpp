#pragma once
/// One compressed stream decompressed whole with libarchive's filters: .ko.xz/.ko.zst modules
/// for the image, the kernel's payload for `crashkit estimate`.

#include <span>
#include <string>

#include "crashkit/base/result.hpp"

namespace crashkit::initramfs {

/// The bytes of `data` decompressed to the end of the stream by whichever filter libarchive
/// recognises (gzip, xz, zstd, ...); bytes no filter recognises come back as they are
/// (libarchive's raw format). Errors: data, with `name` as the path and libarchive's reason
/// ("NAME: cannot decompress: Truncated zstd input"). Thread-safe: each call has its own reader.
Result<std::string> decompress_whole(std::span<const char> data, const std::string& name);

} // namespace crashkit::initramfs
