#pragma once
/// What is loaded and reserved right now, read through KexecSys, and the kdumpctl-style status
/// contract built on it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/loader/kexec_sys.hpp"
#include "crashkit/loader/reservation.hpp"

namespace crashkit::loader {

inline constexpr const char* kPathIomem = "/proc/iomem";
inline constexpr const char* kPathCmdline = "/proc/cmdline";
inline constexpr const char* kPathCrashLoaded = "/sys/kernel/kexec_crash_loaded";
inline constexpr const char* kPathKexecLoaded = "/sys/kernel/kexec_loaded";
inline constexpr const char* kPathCrashSize = "/sys/kernel/kexec_crash_size";
inline constexpr const char* kPathLockdown = "/sys/kernel/security/lockdown";
inline constexpr const char* kPathLoadDisabled = "/proc/sys/kernel/kexec_load_disabled";

/// `crashkit status` exit codes (kdumpctl's contract).
inline constexpr int kStatusArmed = 0;
inline constexpr int kStatusNotArmed = 3;

struct SystemState {
  /// /sys/kernel/kexec_crash_loaded exists: the kernel can load a crash kernel at all.
  bool crash_supported = false;
  bool crash_loaded = false;
  bool reboot_loaded = false;
  std::optional<std::uint64_t> crash_size; ///< /sys/kernel/kexec_crash_size
  Lockdown lockdown = Lockdown::unknown;   ///< unknown when securityfs is not mounted
  std::optional<bool> load_disabled;
  /// /proc/iomem as parsed (kexec_load builds the ELF core header and e820 map from it);
  /// empty when it was unreadable.
  std::vector<IomemEntry> iomem;
  std::optional<Reservation> reservation; ///< absent when /proc/iomem was unreadable
  std::optional<Error> iomem_error;       ///< why reservation is absent

  /// Crash memory in bytes: kexec_crash_size when readable, else the iomem ranges.
  std::optional<std::uint64_t> crash_bytes() const;
};

/// Reads every state file. Missing files leave their fields empty; a present but malformed
/// file is an error (data) naming the path.
Result<SystemState> probe_system(KexecSys& sys);

/// kStatusArmed when a panic kernel is loaded, else kStatusNotArmed.
int status_exit_code(const SystemState& s);

/// The lines `crashkit status` prints (what is loaded, the reservation, lockdown).
std::string describe_status(const SystemState& s);

/// The lines `crashkit showmem` prints (each crash range, low/high, and the total).
std::string describe_reservation(const SystemState& s);

} // namespace crashkit::loader
