#pragma once
/// Whether a block device holds something a raw dump target must not overwrite. A raw target
/// is written from its first byte on: a device name that points at another disk after a reboot
/// (/dev/sdb), or a partition reused without thought, would lose a filesystem, an LVM physical
/// volume, a LUKS header or a partition table. `start`, `rebuild` and `check-config` refuse such
/// a target (initramfs::check_capture_reach) and the capture init probes again before writing.

#include <optional>
#include <string>

#include "crashkit/base/result.hpp"

namespace crashkit::capture_init {

/// What the device (or image file) at `path` carries that crashkit did not write, in words for
/// messages: "ext4 filesystem UUID=..., LABEL=...", "swap signature UUID=...", "LVM2_member
/// signature UUID=...", "gpt partition table PTUUID=...". nullopt: crashkit's own content (a
/// flattened stream, a kdump or ELF dump: probe_dump_format), or a start libblkid recognises
/// nothing in (all zeroes included). Any superblock type and any partition table count, several
/// conflicting signatures too. Errors: from opening or reading it (no_input when it is not
/// there), naming `path`; internal when libblkid cannot probe it. Thread-safe.
Result<std::optional<std::string>> probe_foreign_signature(const std::string& path);

/// The refusal of raw target `device` that holds `signature` (probe_foreign_signature's
/// words), with what to do about it. Category unsupported.
Error foreign_signature_refusal(const std::string& device, const std::string& signature);

} // namespace crashkit::capture_init
