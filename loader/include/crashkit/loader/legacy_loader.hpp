#pragma once
/// Arming the crash slot with kexec_load(2): crashkit does what kexec_file_load does in the
/// kernel. It parses the bzImage, builds the ELF core header (elfcorehdr=) from /proc/iomem,
/// the per-CPU crash notes and VMCOREINFO, builds boot_params with the capture kernel's e820
/// map, places every segment inside the crash reservation, and enters through crashkit's own
/// purgatory, which checks a SHA-256 digest of the segments at panic time.
///
/// Needed where kexec_file_load is missing (ENOSYS: CONFIG_KEXEC_FILE off). Never used under
/// kernel lockdown: kexec_load cannot carry a signature, so a locked-down kernel refuses it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/loader/bzimage.hpp"
#include "crashkit/loader/kexec_sys.hpp"
#include "crashkit/loader/system_state.hpp"

namespace crashkit::loader {

/// The images as load() opened and checked them: the legacy path maps these descriptors and
/// never reopens the paths, so the file whose header was checked is the one loaded.
struct LegacyLoadRequest {
  std::string kernel;                       ///< path, for messages
  const OpenedImage* kernel_file = nullptr; ///< required
  BzImage kernel_header;                    ///< parse_bzimage() of kernel_file
  std::optional<std::string> initrd;        ///< path, for messages
  const OpenedImage* initrd_file = nullptr; ///< set exactly when initrd is
  std::string cmdline; ///< the user's line; "elfcorehdr=0x... " is put in front of it
  /// Test hook (tests/loader/corrupt_digest_load.cpp): store a wrong digest so the purgatory
  /// must refuse to boot the capture kernel at panic time.
  bool corrupt_digest = false;
};

/// Everything kexec_load gets, ready to pass: the segments point into buffers and file
/// mappings this object owns (movable, not copyable).
struct PreparedLegacyLoad {
  std::uint64_t entry = 0;            ///< the purgatory's address
  std::string cmdline;                ///< as the capture kernel gets it
  std::vector<KexecSegment> segments; ///< sorted by address
  static constexpr unsigned long kFlags = kKexecOnCrash | kKexecArchX86_64;

  struct Storage;
  std::shared_ptr<Storage> storage;
};

/// Builds the crash load without calling the kernel. `state` is probe_system()'s: lockdown, the
/// reservation and /proc/iomem come from it, not read again. Errors: no_input (EPERM) under
/// lockdown or when /proc/iomem hides its addresses; data for a kernel that is not relocatable
/// or an empty initrd; unsupported when the segments do not fit the reservation (sizes named)
/// or on a non-x86_64 build; no_input/data for unreadable or malformed /proc and /sys files,
/// naming them; internal when req lacks an opened image.
Result<PreparedLegacyLoad> prepare_legacy_load(KexecSys& sys, const SystemState& state,
                                               const LegacyLoadRequest& req);

} // namespace crashkit::loader
