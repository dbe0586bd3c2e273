#pragma once
/// SHA-256 as lowercase hex (OpenSSL EVP), for the staleness manifest.

#include <string>
#include <string_view>

namespace crashkit::initramfs {

/// 64 hex digits. Never fails for in-memory data (an OpenSSL failure aborts: it means a
/// broken libcrypto, not bad input).
std::string sha256_hex(std::string_view data);

} // namespace crashkit::initramfs
