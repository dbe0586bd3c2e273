#pragma once
/// `raw DEV` targets: the capture environment streams the dump (flattened format) onto the
/// device; the next `crashkit start` turns it into PATH/YYYY-MM-DD-HHMMSS/vmcore on the running
/// system (vmcore.incomplete when the stream was cut short) and only then clears the device's
/// header, so a crash during the salvage loses nothing and a stream is saved once.

#include <optional>
#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"

namespace crashkit::admin {

struct SalvageOutcome {
  bool found = false;    ///< the device held a stream (its signature is now cleared)
  bool complete = false; ///< the stream had its end marker: `vmcore` is PATH/STAMP/vmcore
  /// Where it was saved: .../vmcore, or .../vmcore.incomplete for a stream cut short (an
  /// incomplete dump, flagged as such in its header); "" when the stream held no dump bytes.
  std::string vmcore;
  std::string cut; ///< for a stream cut short: where and why it ends
  /// Set when the stream's records past its header could not be zeroed after the copy: a later
  /// stream cut short at a record boundary could then run on into them.
  std::string warning;
};

/// When the config's target is raw and `device` (below root) starts with a flattened stream:
/// rebuild it into ROOT/PATH/<stamp>/vmcore (dir 0700, file 0600). A stream without its end
/// marker is saved as far as its whole records go, as <stamp>/vmcore.incomplete with the kdump
/// header's incomplete flag set. Once the copy is durable (fdatasync, directory fsync) the
/// device's first 4 KiB are zeroed, so the stream is saved once, then the rest of the stream
/// (BLKZEROOUT; a hole in a regular file), so a later stream cut short never runs on into it.
/// Nothing to do (found = false) for other targets or a device without the signature. Errors:
/// reading the device or writing the copy (the partial copy is removed and the device left as it
/// was).
Result<SalvageOutcome> salvage_raw_dump(const conf::Config& c, const std::string& root,
                                        const std::string& stamp);

} // namespace crashkit::admin
