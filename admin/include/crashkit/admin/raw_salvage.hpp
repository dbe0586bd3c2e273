#pragma once
/// `raw DEV` targets: the capture environment streams the dump (flattened format) onto the
/// device; the next `crashkit start` turns it into PATH/YYYY-MM-DD-HHMMSS/vmcore on the running
/// system and only then clears the device's header, so a crash during the salvage loses
/// nothing.

#include <optional>
#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/conf/config.hpp"

namespace crashkit::admin {

struct SalvageOutcome {
  bool found = false;   ///< the device held a dump
  std::string vmcore;   ///< where it was saved
};

/// When the config's target is raw and `device` (below root) starts with a flattened stream:
/// rebuild it into ROOT/PATH/<stamp>/vmcore (dir 0700, file 0600), fsync, then zero the
/// device's first 4 KiB. Nothing to do (found = false) for other targets or a device without
/// the signature. Errors: the reassembly's (naming the stream offset); the device is then left
/// as it was.
Result<SalvageOutcome> salvage_raw_dump(const conf::Config& c, const std::string& root,
                                        const std::string& stamp);

}  // namespace crashkit::admin
