#include "crashkit/loader/system_state.hpp"

#include <cerrno>
#include <cstdio>

namespace crashkit::loader {
namespace {

// Missing file -> nullopt; any other read error or bad content -> error.
template <typename T, typename Parse>
Result<std::optional<T>> read_optional(KexecSys& sys, const char* path, Parse parse) {
  auto text = sys.read_file(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT)
      return std::optional<T>{};
    return std::move(text).error();
  }
  auto v = parse(*text);
  if (!v)
    return std::move(v).error().with_path(path);
  return std::optional<T>(*v);
}

std::string hex_range(const MemRange& r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "0x%016llx-0x%016llx", static_cast<unsigned long long>(r.start),
                static_cast<unsigned long long>(r.end));
  return buf;
}

} // namespace

std::optional<std::uint64_t> SystemState::crash_bytes() const {
  if (crash_size)
    return crash_size;
  if (reservation && !reservation->addresses_hidden)
    return reservation->crash_bytes();
  return std::nullopt;
}

Result<SystemState> probe_system(KexecSys& sys) {
  SystemState s;
  auto crash = CK_TRY(read_optional<bool>(sys, kPathCrashLoaded, parse_sysfs_bool));
  s.crash_supported = crash.has_value();
  s.crash_loaded = crash.value_or(false);
  auto normal = CK_TRY(read_optional<bool>(sys, kPathKexecLoaded, parse_sysfs_bool));
  s.reboot_loaded = normal.value_or(false);
  s.crash_size = CK_TRY(read_optional<std::uint64_t>(sys, kPathCrashSize, parse_sysfs_u64));
  s.load_disabled = CK_TRY(read_optional<bool>(sys, kPathLoadDisabled, parse_sysfs_bool));
  if (auto lock = sys.read_file(kPathLockdown))
    s.lockdown = parse_lockdown(*lock);

  auto iomem = sys.read_file(kPathIomem);
  if (!iomem) {
    s.iomem_error = std::move(iomem).error();
  } else {
    s.iomem = CK_TRY(parse_iomem(*iomem));
    s.reservation = reservation_from_iomem(s.iomem);
  }
  return s;
}

int status_exit_code(const SystemState& s) {
  return s.crash_loaded ? kStatusArmed : kStatusNotArmed;
}

std::string describe_status(const SystemState& s) {
  std::string out;
  if (!s.crash_supported)
    out += "panic kernel: not supported by this kernel (no /sys/kernel/kexec_crash_loaded)\n";
  else
    out += std::string("panic kernel: ") + (s.crash_loaded ? "loaded" : "not loaded") + "\n";
  out += std::string("reboot kernel: ") + (s.reboot_loaded ? "loaded" : "not loaded") + "\n";
  auto bytes = s.crash_bytes();
  if (!bytes)
    out += "crash memory: unknown\n";
  else if (*bytes == 0)
    out += "crash memory: none reserved (add crashkernel= to the kernel command line)\n";
  else
    out += "crash memory: " + human_size(*bytes) + " reserved\n";
  out += std::string("lockdown: ") + lockdown_name(s.lockdown) + "\n";
  if (s.load_disabled && *s.load_disabled)
    out += "kexec: disabled (kernel.kexec_load_disabled=1)\n";
  return out;
}

std::string describe_reservation(const SystemState& s) {
  std::string out;
  if (!s.reservation)
    return "crash memory: /proc/iomem unreadable: " +
           (s.iomem_error ? s.iomem_error->message() : std::string()) + "\n";
  const Reservation& r = *s.reservation;
  if (r.crash_ranges.empty()) {
    return "crash memory: none reserved (add crashkernel= to the kernel command line and "
           "reboot)\n";
  }
  if (r.addresses_hidden) {
    out += "crash memory: " + std::to_string(r.crash_ranges.size()) +
           " range(s), addresses hidden (run as root)\n";
  } else {
    for (const auto& m : r.crash_ranges) {
      // Labelled by address: "low" is below 4 GiB, where DMA-capable memory lives.
      out += std::string(m.start < k4GiB ? "low  " : "high ") + hex_range(m) + "  " +
             human_size(m.size());
      if (m == *r.segment_range())
        out += "  (kernel and initrd go here)";
      out += "\n";
    }
  }
  if (auto bytes = s.crash_bytes())
    out += "total: " + human_size(*bytes) + "\n";
  return out;
}

} // namespace crashkit::loader
