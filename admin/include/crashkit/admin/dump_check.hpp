#pragma once
/// The admin side's one reader of the dumps crashkit saves: it judges a vmcore by reading it
/// (`crashkit test`, the raw salvage), with pread and bounded buffers, so a dump of any size is
/// checked in a few MiB of memory.
///
/// kdump-compressed: the header and sub-header (block size, bitmap and note extents), both
/// bitmaps within the file and covering max_mapnr, bitmap 2 inside bitmap 1, every page
/// descriptor within the file and pointing at payload bytes inside it, and a sample of payloads
/// decompressed. ELF: the header and every PT_LOAD/PT_NOTE within the file (libelf).

#include <cstdint>
#include <string>

#include "crashkit/base/result.hpp"

namespace crashkit::admin {

struct DumpCheck {
  enum class Format { kdump, elf };
  Format format = Format::kdump;
  bool incomplete = false; ///< the header says the dump was cut short
  std::uint64_t file_bytes = 0;
  std::uint64_t descriptors = 0; ///< kdump: dumpable pages (bitmap 2), one descriptor each
  std::uint64_t not_written = 0; ///< kdump: descriptors with offset 0 (incomplete dumps only)
  std::uint64_t sampled = 0;     ///< kdump: payloads decompressed and found whole
  std::uint64_t segments = 0;    ///< ELF: program headers

  /// One line saying what was checked: "kdump: header ok, 2 bitmaps ok, 24133 descriptors
  /// within the file, 64 sampled pages decompressed".
  std::string summary() const;
};

/// Reads the dump at path and checks it as above; `sample` payloads (spread over the
/// descriptors) are decompressed. Errors: data naming the file, the structure and the offset of
/// the first inconsistency ("descriptor 812 (pfn 0x1a2) at offset 0x5c40: payload 0x9f000+4096
/// ends past the end of the file (0x9e800 bytes)"); no_input/io when it cannot be read.
Result<DumpCheck> check_dump(const std::string& path, std::uint64_t sample = 64);

/// Makes a kdump-compressed file cut short readable as an incomplete dump, as the capture
/// writers leave one: sets the header's incomplete flag (crash then reports pages without
/// descriptors as missing) and extends the file with zeros to the end of its descriptor table,
/// so every descriptor reads (offset 0: not written). fdatasyncs. Errors: data when the file
/// holds no complete kdump header and sub-header; io.
Status mark_kdump_incomplete(const std::string& path);

} // namespace crashkit::admin
