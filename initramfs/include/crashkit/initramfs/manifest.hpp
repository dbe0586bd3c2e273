#pragma once
/// What a capture image was built from, as content hashes, stored beside the image as
/// IMAGE.manifest.json. A new manifest computed from the current inputs is compared with the
/// stored one to decide whether the image is stale.

#include <map>
#include <string>
#include <string_view>

#include "crashkit/base/result.hpp"

namespace crashkit::initramfs {

inline constexpr int kManifestFormat = 1;

struct Manifest {
  std::string kernel;                          ///< KVER
  std::string config_sha256;                   ///< of the rendered config text
  std::map<std::string, std::string> files;    ///< in-image path → SHA-256 of the content
  std::map<std::string, std::string> binaries; ///< crashkit programs (host path) → SHA-256
  std::string image_sha256;                    ///< of the written image; empty until written

  /// Pretty JSON with sorted keys: diffable, stable for equal manifests.
  std::string to_json() const;
  /// Errors: data when the text is not a manifest of this format.
  static Result<Manifest> parse(std::string_view text, const std::string& name);
};

/// IMAGE.manifest.json
std::string manifest_path(const std::string& image);

/// Why the image must be rebuilt for `fresh`, or "" when it is current: the image or its
/// manifest is missing or unreadable, the inputs differ (names the first difference), or the
/// image's bytes are not the ones the manifest recorded (interrupted or foreign write).
/// Errors: only unexpected I/O errors (EIO, EACCES) on existing files.
Result<std::string> stale_reason(const std::string& image, const Manifest& fresh);

/// stale_reason() != "".
Result<bool> is_stale(const std::string& image, const Manifest& fresh);

} // namespace crashkit::initramfs
