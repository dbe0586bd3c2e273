#include "crashkit/loader/kexec_loader.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include "crashkit/base/io.hpp"
#include "crashkit/loader/bzimage.hpp"
#include "crashkit/loader/cmdline.hpp"
#include "crashkit/loader/load_advice.hpp"
#include "crashkit/loader/system_state.hpp"

namespace crashkit::loader {
namespace {

Error syscall_error(const Error& e, const AdviceContext& ctx, const std::string& what,
                    const std::string& suffix = {}) {
  const int err = e.sys_errno();
  ErrorCategory cat = ErrorCategory::io;
  switch (is_signature_errno(err) ? EPERM : err) {
  case EPERM:
  case EACCES:
    cat = ErrorCategory::no_input;
    break;
  case ENOEXEC:
  case EFBIG:
  case EINVAL: // the image or its command line, as the kernel read them
    cat = ErrorCategory::data;
    break;
  case ENOSYS:
    cat = ErrorCategory::unsupported;
    break;
  default:
    break;
  }
  return Error(cat, what + ": " + load_advice(err, ctx) + suffix, err);
}

} // namespace

Status exec_reboot_kernel(KexecSys& sys) {
  auto state = CK_TRY(probe_system(sys));
  if (!state.reboot_loaded)
    return Error(ErrorCategory::unsupported,
                 "no kernel is loaded for reboot: load one first with `crashkit load --reboot "
                 "KERNEL [--initrd FILE] --reuse-cmdline`");
  return sys.reboot_kexec();
}

const char* slot_name(Slot s) {
  return s == Slot::panic ? "panic" : "reboot";
}

Result<std::string> build_cmdline(KexecSys& sys, const CmdlineRequest& req) {
  std::string base;
  if (req.command_line) {
    base = *req.command_line;
  } else if (req.reuse) {
    auto text = CK_TRY_CONTEXT(sys.read_file(kPathCmdline), "--reuse-cmdline");
    base = join_cmdline(tokenize_cmdline(text));
    if (req.slot == Slot::panic) {
      CmdlineFilter f = default_panic_filter();
      if (req.remove)
        f.remove = *req.remove;
      if (req.capture_params)
        f.append = *req.capture_params;
      base = filter_cmdline(base, f);
    }
  }
  return append_cmdline(base, req.append);
}

namespace {

/// x86_64 kexec loads only take a bzImage: check its header before asking the kernel, whose
/// answer to a corrupt or truncated file is a bare ENOEXEC (or, for a truncated one, a crash
/// kernel that dies at panic time). Returns the parsed header, which the legacy path loads
/// from; nothing on other architectures.
Result<std::optional<BzImage>> precheck_kernel(const OpenedImage& kernel, const std::string& path) {
#if defined(__x86_64__)
  std::vector<std::byte> head(kBzImageHeaderBytes);
  auto n = CK_TRY(pread_some(kernel.fd.get(), head.data(), head.size(), 0, path));
  // Fewer bytes than fstat promised: the file shrank after it was opened (rewritten in place
  // while loading), and the kernel would read the same short file.
  if (n < std::min<std::uint64_t>(head.size(), kernel.size))
    return Error(ErrorCategory::data,
                 path + ": truncated: the file has " + std::to_string(kernel.size) +
                     " bytes by fstat, but reading its setup header at offset 0 ended after " +
                     std::to_string(n));
  head.resize(n);
  auto img = CK_TRY(parse_bzimage(head, kernel.size, path));
  return std::optional<BzImage>(img);
#else
  (void)kernel, (void)path;
  return std::optional<BzImage>();
#endif
}

} // namespace

Result<LoadReport> load(KexecSys& sys, const LoadRequest& req) {
  const std::string what = std::string("load --") + slot_name(req.slot) + " " + req.kernel;
  const bool panic = req.slot == Slot::panic;
  if (req.syscall == SyscallChoice::legacy && !panic)
    return Error(ErrorCategory::unsupported,
                 what + ": --syscall legacy loads the panic slot only; use --syscall file");

  auto kernel = sys.open_image(req.kernel);
  if (!kernel)
    return Error(kernel.error().category(), what + ": cannot open the kernel",
                 kernel.error().sys_errno());
  auto header = CK_TRY_CONTEXT(precheck_kernel(*kernel, req.kernel), what);
  std::optional<OpenedImage> initrd;
  if (req.initrd) {
    auto i = sys.open_image(*req.initrd);
    if (!i)
      return Error(i.error().category(), what + ": cannot open the initrd " + *req.initrd,
                   i.error().sys_errno());
    initrd = std::move(*i);
  }

  auto state = CK_TRY_CONTEXT(probe_system(sys), what);
  if (panic && !state.crash_supported)
    return Error(ErrorCategory::unsupported,
                 what + ": this kernel cannot load a panic kernel (CONFIG_CRASH_DUMP off: no " +
                     kPathCrashLoaded + ")");

  std::vector<char> cmdline(req.cmdline.begin(), req.cmdline.end());
  cmdline.push_back('\0'); // the kernel checks cmdline[len-1] == '\0'

  AdviceContext ctx;
  ctx.slot = req.slot;
  ctx.kernel_size = kernel->size;
  if (initrd)
    ctx.initrd_size = initrd->size;
  ctx.cmdline_len = cmdline.size();
  ctx.crash_size = state.crash_bytes();
  // Segments go into the highest range only; since ~v6.4 kexec_crash_size also counts the low
  // chunk, so the visible high range is the size that has to hold the images.
  if (state.reservation && !state.reservation->addresses_hidden &&
      state.reservation->segment_range())
    ctx.crash_size = state.reservation->segment_range()->size();
  ctx.lockdown = state.lockdown;
  ctx.load_disabled = state.load_disabled;
  ctx.cap_sys_boot = sys.has_cap_sys_boot();

  if (panic) {
    const std::uint64_t images = kernel->size + (initrd ? initrd->size : 0);
    if (ctx.crash_size && (*ctx.crash_size == 0 || images > *ctx.crash_size))
      return Error(ErrorCategory::unsupported,
                   what + ": " + load_advice(EADDRNOTAVAIL, ctx) +
                       (state.crash_loaded ? "; not attempted, the armed panic kernel is kept"
                                           : "; not attempted"),
                   EADDRNOTAVAIL);
  }

  // Both syscalls free the armed crash image before loading: say what is armed afterwards.
  auto after_failure = [&]() -> std::string {
    if (!panic)
      return {};
    auto after = probe_system(sys);
    if (after && !after->crash_loaded)
      return state.crash_loaded ? "; the previous panic kernel was unloaded, none is armed now"
                                : "; no panic kernel is armed";
    return {};
  };
  auto legacy = [&](const std::string& prefix) -> Result<LoadReport> {
    LegacyLoadRequest lreq;
    lreq.kernel = req.kernel;
    lreq.kernel_file = &*kernel;
    if (header)
      lreq.kernel_header = *header;
    lreq.initrd = req.initrd;
    if (initrd)
      lreq.initrd_file = &*initrd;
    lreq.cmdline = req.cmdline;
    lreq.corrupt_digest = req.test_corrupt_digest;
    spdlog::debug("kexec_load (crashkit purgatory) kernel={} initrd={}", req.kernel,
                  req.initrd.value_or("-"));
    auto prepared = CK_TRY_CONTEXT(prepare_legacy_load(sys, state, lreq),
                                   prefix.empty() ? what : what + ": " + prefix);
    spdlog::debug("kexec_load entry={:#x} (purgatory) segments={} flags={:#x}", prepared.entry,
                  prepared.segments.size(), PreparedLegacyLoad::kFlags);
    auto rc = sys.kexec_load(prepared.entry, prepared.segments, PreparedLegacyLoad::kFlags);
    if (rc)
      return LoadReport{"kexec_load", prepared.cmdline};
    const Error& e = rc.error();
    std::string suffix = after_failure();
    if (e.sys_errno() == EPERM && state.lockdown == Lockdown::unknown)
      suffix += "; if kernel lockdown is active (securityfs is not mounted to tell), kexec_load "
                "is always refused: use --syscall file";
    return syscall_error(e, ctx, what + ": " + (prefix.empty() ? "" : prefix + ": ") + "kexec_load",
                         suffix);
  };

  if (req.syscall == SyscallChoice::legacy)
    return legacy("");

  unsigned long flags = panic ? kKexecFileOnCrash : 0;
  if (!initrd)
    flags |= kKexecFileNoInitramfs;
  spdlog::debug("kexec_file_load kernel={} initrd={} cmdline_len={} flags={:#x}", req.kernel,
                req.initrd.value_or("-"), cmdline.size(), flags);
  spdlog::debug("command line: {}", req.cmdline);
  auto rc = sys.kexec_file_load(kernel->fd.get(), initrd ? initrd->fd.get() : -1, cmdline, flags);
  if (rc)
    return LoadReport{"kexec_file_load", req.cmdline};

  if (rc.error().sys_errno() == ENOSYS && req.syscall == SyscallChoice::automatic && panic)
    return legacy("kexec_file_load is missing (ENOSYS), so kexec_load was tried");
  return syscall_error(rc.error(), ctx, what + ": kexec_file_load", after_failure());
}

Status unload(KexecSys& sys, Slot slot) {
  unsigned long flags = kKexecFileUnload | (slot == Slot::panic ? kKexecFileOnCrash : 0);
  auto rc = sys.kexec_file_load(-1, -1, {}, flags);
  if (rc)
    return {};
  // A kernel without kexec_file_load was loaded with kexec_load: unload the same way (no
  // segments). Under lockdown kexec_file_load exists, so this is never tried there.
  if (rc.error().sys_errno() == ENOSYS)
    rc = sys.kexec_load(0, {}, (slot == Slot::panic ? kKexecOnCrash : 0) | kKexecArchX86_64);
  if (rc)
    return {};
  AdviceContext ctx;
  ctx.slot = slot;
  ctx.unload = true;
  ctx.cap_sys_boot = sys.has_cap_sys_boot();
  if (auto state = probe_system(sys)) {
    ctx.lockdown = state->lockdown;
    ctx.load_disabled = state->load_disabled;
  }
  return syscall_error(rc.error(), ctx,
                       std::string("unload --") + slot_name(slot) + ": kexec_file_load");
}

} // namespace crashkit::loader
