#pragma once
/// The capture image's entries and their serialization: a newc cpio (libarchive) compressed
/// with zstd, every entry owned by 0:0 with mtime 0, written in path order, so identical
/// contents give identical bytes.

#include <cstdint>
#include <map>
#include <string>

#include "crashkit/base/result.hpp"

namespace crashkit::initramfs {

struct ImageEntry {
  enum class Kind { directory, file, char_device };
  Kind kind = Kind::file;
  std::uint32_t mode = 0644; ///< permission bits only
  std::string data;          ///< file content
  std::uint32_t rdev_major = 0, rdev_minor = 0;
};

/// Entries keyed by absolute in-image path ("/init"). Parents of every added path become 0755
/// directories. Adding a path twice replaces the earlier entry.
class ImageContents {
public:
  void add_file(const std::string& path, std::string data, std::uint32_t mode);
  void add_directory(const std::string& path, std::uint32_t mode = 0755);
  void add_char_device(const std::string& path, std::uint32_t major, std::uint32_t minor,
                       std::uint32_t mode);

  const std::map<std::string, ImageEntry>& entries() const { return entries_; }
  /// Sum of the regular files' sizes (what the capture kernel unpacks into memory).
  std::uint64_t file_bytes() const;

private:
  void add_parents(const std::string& path);
  std::map<std::string, ImageEntry> entries_;
};

/// The compressed archive in memory. zstd_level 1..19 (the capture kernel decompresses any
/// level; 19 keeps the window at 8 MiB). Errors: internal with libarchive's message.
Result<std::string> write_newc_zstd(const ImageContents& contents, int zstd_level);

/// zstd window of the image: 2^20 = 1 MiB, what the kernel allocates to unpack it.
inline constexpr int kInitramfsWindowLog = 20;

/// One zstd frame of `cpio` at zstd_level with a 1 MiB window and a checksum.
Result<std::string> compress_for_kernel(const std::string& cpio, int zstd_level);

} // namespace crashkit::initramfs
