#pragma once
/// One sentence of advice for every errno kexec_file_load(2) returns, using what we know about
/// the machine (reservation size, lockdown, privileges) to pick the likely cause.

#include <cstdint>
#include <optional>

#include "crashkit/loader/reservation.hpp"

namespace crashkit::loader {

/// Which kexec slot: the crash (panic) kernel or the normal one for a fast reboot.
enum class Slot { panic, reboot };

/// What the advice may refer to; unknown parts are left empty.
struct AdviceContext {
  Slot slot = Slot::panic;
  bool unload = false;
  std::uint64_t kernel_size = 0;
  std::optional<std::uint64_t> initrd_size;
  std::uint64_t cmdline_len = 0;           ///< including the NUL
  std::optional<std::uint64_t> crash_size; ///< /sys/kernel/kexec_crash_size or iomem
  Lockdown lockdown = Lockdown::unknown;
  bool cap_sys_boot = true;
  std::optional<bool> load_disabled; ///< /proc/sys/kernel/kexec_load_disabled
};

/// x86 bzImage: setup_header.cmdline_size 2047 minus 30 bytes kept for "elfcorehdr=0x...".
inline constexpr std::uint64_t kX86MaxCmdlineLen = 2047 - 30;

/// The sentence for err (no trailing period, no errno text; the caller adds strerror).
std::string load_advice(int err, const AdviceContext& ctx);

/// True for the errnos the kernel returns when an image's signature is missing or rejected
/// (EKEYREJECTED, ENOKEY, EBADMSG, ENODATA, ENOPKG, ELIBBAD, EMSGSIZE).
bool is_signature_errno(int err);

} // namespace crashkit::loader
