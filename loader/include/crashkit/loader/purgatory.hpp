#pragma once
/// crashkit's own purgatory (loader/purgatory/): built from source with the project, embedded
/// as a flat position-independent image. The loader patches in where the kernel and its zero
/// page are and a SHA-256 digest of every other segment; at panic time the purgatory recomputes
/// the digest and halts instead of booting a capture kernel whose memory was overwritten.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crashkit/base/result.hpp"

namespace crashkit::loader {

/// One range the purgatory hashes: bytes as the loader hands them to kexec_load, at the
/// physical address they will occupy.
struct DigestRegion {
  std::uint64_t mem = 0;
  std::span<const std::byte> bytes;
};

/// The built image's size (also its segment's size: stack and data live inside it).
std::size_t purgatory_size();

/// The image as built, parameters unpatched (for tests and inspection).
std::span<const std::byte> purgatory_template();

struct PurgatoryRequest {
  std::uint64_t entry_rip = 0; ///< kernel load address + 0x200
  std::uint64_t entry_rsi = 0; ///< boot_params physical address
  std::vector<DigestRegion> regions;
  /// Test hook: flip one bit of the stored digest so the purgatory must refuse to boot.
  bool corrupt_digest = false;
};

/// SHA-256 (OpenSSL) over the regions' bytes in order.
std::array<std::uint8_t, 32> segments_digest(std::span<const DigestRegion> regions);

/// The patched image. Errors: usage for more than 16 regions; internal when the embedded
/// image's parameter block does not carry the expected magic (a build mismatch).
Result<std::vector<std::byte>> build_purgatory(const PurgatoryRequest& req);

} // namespace crashkit::loader
