#include "crashkit/capture_init/capture_init.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>

#include "crashkit/base/file_at.hpp"
#include "crashkit/base/hook_policy.hpp"
#include "crashkit/base/io.hpp"
#include "crashkit/base/path.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/dmesg.hpp"
#include "crashkit/capture/dump_output.hpp"
#include "crashkit/capture/kdump_layout.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture/page_compressor.hpp"
#include "crashkit/capture/page_filter.hpp"
#include "crashkit/capture_init/device_signature.hpp"
#include "crashkit/capture_init/dump_dir.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "crashkit/conf/crashkernel.hpp"

namespace crashkit::capture_init {
namespace {

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

/// Creates every missing directory of path with mode (existing ones are left as they are).
/// Only for the capture image's own mount points; the dump PATH goes through open_dump_path.
Status mkdir_p(const std::string& path, mode_t mode) {
  std::string cur;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    const auto next = path.find('/', pos);
    cur = path.substr(0, next == std::string::npos ? path.size() : next);
    pos = next == std::string::npos ? path.size() + 1 : next + 1;
    if (cur.empty())
      continue;
    if (::mkdir(cur.c_str(), mode) == 0) {
      ::chmod(cur.c_str(), mode); // not narrowed by the umask
      continue;
    }
    if (errno != EEXIST)
      return Error::from_errno(errno, "mkdir").with_path(cur);
    struct stat st {};
    if (::stat(cur.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Error(ErrorCategory::io, "exists and is not a directory").with_path(cur);
  }
  return {};
}

/// Deeper than any dump directory gets (they are flat); bounds the walk of a crafted tree.
constexpr int kMaxTreeDepth = 8;

/// The bytes the files below an open directory occupy; with `remove`, removes them too.
/// Symbolic links are removed, never followed.
Result<std::uint64_t> walk_tree(int dir_fd, bool remove, const std::string& shown, int depth = 0) {
  if (depth > kMaxTreeDepth)
    return Error(ErrorCategory::data, "nested too deep").with_path(shown);
  auto names = CK_TRY(list_dir_fd(dir_fd, shown));
  std::uint64_t bytes = 0;
  for (const auto& n : names) {
    const std::string path = join_path(shown, n);
    struct stat st {};
    if (::fstatat(dir_fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Error::from_errno(errno, "stat").with_path(path);
    if (S_ISDIR(st.st_mode)) {
      auto sub = CK_TRY(open_dir_at(dir_fd, n, path));
      auto b = CK_TRY(walk_tree(sub.get(), remove, path, depth + 1));
      bytes += b;
    } else {
      bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    if (remove && ::unlinkat(dir_fd, n.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0)
      return Error::from_errno(errno, "remove").with_path(path);
  }
  return bytes;
}

/// Who owns what the capture makes, and the dump directories it counts and removes: root in
/// the capture environment (tests run it as themselves).
uid_t capture_uid() {
  return ::geteuid();
}

/// Refuses a directory on the way to the dumps that someone other than root could change:
/// there a local user could plant a link or a directory under the next dump's name, or move a
/// dump away to make room for one of theirs.
Status check_trusted_dir(int fd, const std::string& shown) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Error::from_errno(errno, "fstat").with_path(shown);
  if (st.st_uid != 0 && st.st_uid != capture_uid())
    return Error(ErrorCategory::data, "owned by uid " + std::to_string(st.st_uid) +
                                          ", not root: refusing it on the dump path")
        .with_path(shown);
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Error(ErrorCategory::data,
                 std::string("writable by group or others (mode ") + mode +
                     "): another user could plant or replace dumps there; refusing "
                     "it on the dump path (chmod go-w it, or set another path)")
        .with_path(shown);
  }
  return {};
}

/// Removes path_fd/name when it still is a dump directory the capture made.
Status remove_dump_dir(int path_fd, const std::string& name, const std::string& dumps) {
  auto d = CK_TRY(open_dump_dir(path_fd, name, capture_uid(), dumps));
  if (!d.valid())
    return {};
  const std::string shown = join_path(dumps, name);
  CK_TRY(walk_tree(d.get(), /*remove=*/true, shown));
  if (::unlinkat(path_fd, name.c_str(), AT_REMOVEDIR) != 0)
    return Error::from_errno(errno, "remove").with_path(shown);
  return {};
}

/// What keep_dumps removes before or after the new dump, and the space that gives back.
struct RetentionPlan {
  std::vector<std::string> remove;
  std::uint64_t bytes = 0;
};

Result<RetentionPlan> plan_retention(int path_fd, const std::string& dumps,
                                     const std::string& new_name, std::uint64_t keep) {
  RetentionPlan plan;
  if (keep == 0)
    return plan;
  auto names = CK_TRY(list_dir_fd(path_fd, dumps));
  std::vector<OldDump> old;
  for (const auto& n : names) {
    if (n == new_name || !is_dump_dir_name(n))
      continue;
    auto d = CK_TRY(open_dump_dir(path_fd, n, capture_uid(), dumps));
    if (!d.valid()) {
      spdlog::warn("{}: not a dump directory the capture made (a link, or not owned by root); "
                   "ignored",
                   join_path(dumps, n));
      continue;
    }
    old.push_back({n, dump_files_status(d.get())});
  }
  plan.remove = dumps_to_remove(std::move(old), keep);
  for (const auto& n : plan.remove) {
    auto d = CK_TRY(open_dump_dir(path_fd, n, capture_uid(), dumps));
    auto b = CK_TRY(walk_tree(d.get(), /*remove=*/false, join_path(dumps, n)));
    plan.bytes += b;
  }
  return plan;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  return a + b < a ? UINT64_MAX : a + b;
}

/// The message of whatever a step threw; never throws itself.
std::string describe_exception(const char* step) noexcept {
  try {
    try {
      throw;
    } catch (const std::exception& e) {
      return std::string(step) + ": " + e.what();
    } catch (...) {
      return std::string(step) + ": unknown exception";
    }
  } catch (...) {
    return {}; // out of memory even for the message
  }
}

/// Below this much available memory the capture runs in low-memory mode.
constexpr std::uint64_t kLowMemoryKib = 160 * 1024;

/// MemAvailable from /proc/meminfo in KiB; 0 when unreadable (then low-memory mode is safest).
std::uint64_t mem_available_kib() {
  auto text = read_whole_file("/proc/meminfo");
  if (!text)
    return 0;
  constexpr std::string_view kKey = "\nMemAvailable:";
  const auto at = ("\n" + *text).find(kKey);
  if (at == std::string::npos)
    return 0;
  return std::strtoull(text->c_str() + at + kKey.size() - 1, nullptr, 10);
}

capture::CaptureRequest request_from(const conf::CoreCollector& cc, const std::string& vmcore) {
  capture::CaptureRequest req = capture::capture_request(cc.settings, vmcore);
  // In a small reservation every MiB counts (measured at crashkernel=96M on a 2 GiB guest:
  // ~36 MiB free after boot, 9 of it the initramfs itself).
  req.low_memory = req.low_memory || mem_available_kib() < kLowMemoryKib;
  return req;
}

/// Progress on the console every 10 %: a large dump takes minutes, and a silent console looks
/// like a hang to whoever watches it.
capture::ProgressFn console_progress() {
  auto last = std::make_shared<int>(0);
  return [last](std::uint64_t done, std::uint64_t total) {
    if (total == 0)
      return;
    const int decile = static_cast<int>(done * 10 / total);
    if (decile > *last && decile < 10) {
      *last = decile;
      spdlog::info("vmcore: {}0 % of {} pages", decile, total);
    }
  };
}

Status check_hook(const std::string& path, const struct stat& st, uid_t owner) {
  const auto refuse = [&](std::string why) {
    return Error(ErrorCategory::usage, std::move(why)).with_path(path);
  };
  switch (check_hook_stat(st, owner)) {
  case HookProblem::none:
    return {};
  case HookProblem::not_regular:
    return refuse("not a regular file");
  case HookProblem::wrong_owner:
    return refuse("owned by uid " + std::to_string(st.st_uid) + ", not " + std::to_string(owner));
  case HookProblem::writable:
    return refuse("group- or world-writable");
  case HookProblem::not_executable:
    return refuse("not executable");
  }
  return {};
}

class Init {
public:
  Init(InitSys& sys, const InitPaths& paths, const InitOptions& opts)
      : sys_(sys), paths_(paths), opts_(opts) {}

  InitOutcome run();

private:
  void mount_pseudo();
  bool read_config();
  void load_modules();
  Result<std::string> wait_for_device(const std::string& spec);
  Status mount_device(const std::string& spec, std::string fstype, const std::string& flags,
                      const std::string& mountpoint);
  Status mount_rootfs();
  std::uint64_t estimate_need(const capture::CaptureRequest& req, const capture::OpenDump& dump);
  Status make_room(int path_fd, const std::string& dumps, const std::string& new_name,
                   std::uint64_t need, std::vector<std::string>& remove_after);
  Status dump_to_directory(const std::string& mountpoint);
  Status save_into(const std::string& dumps, int path_fd, const std::string& name,
                   const capture::CaptureRequest& req, capture::OpenDump& dump);
  void write_report(const Status& result);
  Status dump_to_raw(const std::string& spec);
  Status capture();
  Status run_hook(const char* name, const std::vector<std::string>& cfg_argv,
                  const std::string* status);
  void take_action(conf::Action a);
  void failure_action();
  void fail(const Error& e);

  InitSys& sys_;
  const InitPaths& paths_;
  const InitOptions& opts_;
  conf::Config cfg_;
  InitOutcome out_;
  std::vector<std::string> mounted_; ///< dump filesystems, unmounted before the end
  DumpReport report_;                ///< of the dump directory being filled
  UniqueFd dir_fd_;                  ///< that directory; report_ is due while it is open
};

void Init::mount_pseudo() {
  struct Pseudo {
    const char *dir, *type;
  };
  for (const Pseudo& p :
       {Pseudo{"/proc", "proc"}, Pseudo{"/sys", "sysfs"}, Pseudo{"/dev", "devtmpfs"}}) {
    ::mkdir(p.dir, 0755);
    auto st = sys_.mount(p.type, p.dir, p.type, 0, {});
    if (!st && st.error().sys_errno() != EBUSY)
      spdlog::warn("{}", st.error().message());
  }
  sys_.attach_console();
}

bool Init::read_config() {
  auto text = read_whole_file(paths_.config);
  if (!text) {
    spdlog::error("{}", text.error().message());
    return false;
  }
  auto parsed = conf::parse_config_text(*text, paths_.config);
  if (!parsed.ok()) {
    for (const auto& d : parsed.errors)
      spdlog::error("{}", d.str());
    // Use what could be read: failure_action from a half-valid file beats the default.
    cfg_ = std::move(parsed.config);
    return false;
  }
  cfg_ = std::move(parsed.config);
  return true;
}

void Init::load_modules() {
  auto text = read_whole_file(paths_.modules);
  if (!text) {
    if (text.error().sys_errno() != ENOENT)
      spdlog::warn("{}", text.error().message());
    return;
  }
  std::size_t pos = 0, loaded = 0, failed = 0;
  while (pos < text->size()) {
    auto nl = text->find('\n', pos);
    if (nl == std::string::npos)
      nl = text->size();
    std::string line = text->substr(pos, nl - pos);
    pos = nl + 1;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    line.erase(0, first);
    // A module that fails may not be needed (its device is absent); the target wait reports
    // what matters.
    if (auto st = sys_.load_module(line); !st) {
      spdlog::warn("{}", st.error().message());
      ++failed;
    } else {
      ++loaded;
    }
  }
  spdlog::info("modules: {} loaded{}", loaded,
               failed ? ", " + std::to_string(failed) + " failed" : std::string());
}

Result<std::string> Init::wait_for_device(const std::string& spec) {
  const double deadline = sys_.monotonic() + opts_.device_timeout_s;
  for (bool told = false;; told = true) {
    auto dev = sys_.find_device(spec);
    if (dev)
      return dev;
    if (dev.error().category() != ErrorCategory::no_input)
      return std::move(dev).error();
    if (sys_.monotonic() >= deadline) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.0f", opts_.device_timeout_s);
      return Error(ErrorCategory::no_input,
                   "dump target " + spec + " did not appear within " + buf + " s");
    }
    if (!told)
      spdlog::info("waiting for {}", spec);
    sys_.sleep_ms(opts_.poll_ms);
  }
}

Status Init::mount_device(const std::string& spec, std::string fstype, const std::string& flags,
                          const std::string& mountpoint) {
  auto dev = CK_TRY(wait_for_device(spec));
  if (fstype.empty()) {
    fstype = CK_TRY(sys_.probe_fstype(dev));
  }
  CK_TRY(mkdir_p(mountpoint, 0755));
  CK_TRY(sys_.mount(dev, mountpoint, fstype, 0, flags));
  mounted_.push_back(mountpoint);
  spdlog::info("mounted {} ({}, {}) at {}", spec, dev, fstype, mountpoint);
  return {};
}

Status Init::mount_rootfs() {
  auto cmdline = CK_TRY(read_whole_file(paths_.cmdline));
  auto root = CK_TRY_CONTEXT(parse_root_from_cmdline(cmdline),
                             "crashed system's root from " + paths_.cmdline);
  // rootflags usually holds "ro"-style options the first kernel remounted later; only keep
  // what a read-write mount can use.
  std::string flags;
  std::size_t pos = 0;
  while (pos <= root.flags.size() && !root.flags.empty()) {
    auto comma = root.flags.find(',', pos);
    if (comma == std::string::npos)
      comma = root.flags.size();
    const std::string f = root.flags.substr(pos, comma - pos);
    pos = comma + 1;
    if (!f.empty() && f != "ro" && f != "rw")
      flags += (flags.empty() ? "" : ",") + f;
  }
  return mount_device(root.device, root.fstype, flags, paths_.rootfs_mount);
}

std::uint64_t Init::estimate_need(const capture::CaptureRequest& req,
                                  const capture::OpenDump& dump) {
  auto est = estimate_dump_bytes(dump, req.dump_level);
  if (est)
    return *est;
  // No usable filter (no VMCOREINFO): the writer can only drop zero pages, so plan for all.
  std::uint64_t need = 0;
  struct stat st {};
  if (::stat(req.vmcore.c_str(), &st) == 0)
    need = static_cast<std::uint64_t>(st.st_size);
  spdlog::warn("estimating the dump size: {}; assuming the whole vmcore ({})",
               est.error().message(), mib(need));
  return need;
}

// Old dumps go only when the new one then fits: first, when the space is needed, else after
// the new dump is complete (remove_after), so a capture that fails never costs an old dump.
Status Init::make_room(int path_fd, const std::string& dumps, const std::string& new_name,
                       std::uint64_t need, std::vector<std::string>& remove_after) {
  const std::uint64_t keep = cfg_.keep_dumps.value;
  auto plan = plan_retention(path_fd, dumps, new_name, keep);
  if (!plan) {
    spdlog::warn("keep_dumps {}: {}; no old dump removed", keep, plan.error().message());
    plan = RetentionPlan{};
  }
  auto space = CK_TRY(sys_.space(dumps));
  const std::uint64_t min_free = cfg_.min_free.value;
  const std::uint64_t want = saturating_add(need, min_free);
  spdlog::info("space: {} available, dump estimate {} + min_free {}", mib(space.available),
               mib(need), mib(min_free));
  if (space.available >= want) {
    remove_after = std::move(plan->remove);
    return {};
  }
  const auto refuse = [&](std::uint64_t available, const std::string& after) {
    return Error(ErrorCategory::no_space,
                 "not enough space for the dump: " + mib(available) + " available" + after + ", " +
                     mib(need) + " estimated + " + mib(min_free) +
                     " min_free needed; vmcore not written",
                 ENOSPC)
        .with_path(dumps);
  };
  if (plan->remove.empty() || saturating_add(space.available, plan->bytes) < want)
    return refuse(space.available, plan->remove.empty()
                                       ? std::string(", old dumps kept")
                                       : " (" + mib(plan->bytes) + " more if keep_dumps " +
                                             std::to_string(keep) + " removed " +
                                             std::to_string(plan->remove.size()) +
                                             " old dumps: not enough either, so all are kept)");
  for (const auto& name : plan->remove) {
    spdlog::info("keep_dumps {}: removing {} to make room", keep, join_path(dumps, name));
    if (auto st = remove_dump_dir(path_fd, name, dumps); !st)
      spdlog::warn("{}", st.error().message());
  }
  space = CK_TRY(sys_.space(dumps));
  if (space.available < want)
    return refuse(space.available, " after removing old dumps for keep_dumps");
  return {};
}

Status Init::dump_to_directory(const std::string& mountpoint) {
  const std::string dumps = join_path(mountpoint, cfg_.path.value);
  auto path_fd = CK_TRY(open_dump_path(mountpoint, cfg_.path.value, /*create=*/true));

  auto req = request_from(cfg_.core_collector.value, paths_.vmcore);
  if (cfg_.core_collector.value.settings.format == capture::OutputFormat::flat)
    spdlog::info("core_collector asks for the flattened format; a filesystem target gets the "
                 "kdump-compressed file it reassembles to");
  // Open the vmcore before anything is created: without one there is nothing to save.
  auto dump = CK_TRY(capture::open_dump(req.vmcore));

  const std::int64_t when = sys_.wall_time();
  // A new directory every time: an existing one (an earlier capture's, or one planted under
  // the name) is never written into.
  std::string dir, name;
  for (int attempt = 0;; ++attempt) {
    name = dump_dir_name(when + attempt);
    dir = join_path(dumps, name);
    if (::mkdirat(path_fd.get(), name.c_str(), 0700) == 0)
      break;
    if (errno != EEXIST || attempt >= 5)
      return Error::from_errno(errno, "mkdir").with_path(dir);
  }
  auto dir_fd = CK_TRY(open_dump_dir(path_fd.get(), name, capture_uid(), dumps));
  if (!dir_fd.valid())
    return Error(ErrorCategory::io, "not the directory just made (replaced?)").with_path(dir);
  ::fchmod(dir_fd.get(), 0700);
  dir_fd_ = std::move(dir_fd);
  out_.dump_dir = dir;
  spdlog::info("saving to {}", dir);

  report_ = DumpReport{};
  report_.time = when;
  report_.dump_level = req.dump_level;
  report_.format = req.format == capture::DumpFormat::elf ? "elf" : "kdump";
  report_.compression = capture::compression_name(req.compression);
  report_.kernel = dump.info.osrelease();
  const double t0 = sys_.monotonic();
  Status result = save_into(dumps, path_fd.get(), name, req, dump);
  report_.duration_s = sys_.monotonic() - t0;
  write_report(result);
  return result;
}

void Init::write_report(const Status& result) {
  if (!dir_fd_.valid())
    return;
  if (!result) {
    report_.exit_code = exit_code_for(result.error().category());
    report_.message = result.error().message();
  }
  out_.status = report_.status;
  const std::string path = join_path(out_.dump_dir, kReportFile);
  if (auto st = write_file_atomic(path, report_json(report_), 0600); !st)
    spdlog::warn("{}", st.error().message());
  dir_fd_.reset();
  spdlog::info("dump {} in {:.1f} s: {} bytes vmcore, {} bytes dmesg", status_name(report_.status),
               report_.duration_s, report_.vmcore_bytes, report_.dmesg_bytes);
}

Status Init::save_into(const std::string& dumps, int path_fd, const std::string& name,
                       const capture::CaptureRequest& req, capture::OpenDump& dump) {
  const std::string dir = join_path(dumps, name);
  CK_TRY(run_hook(initramfs::image_layout::kHookPreName, cfg_.kdump_pre.value, nullptr));
  DumpReport& rep = report_;
  // dmesg first: small, and what an administrator reads first when the vmcore does not fit.
  // Streamed with fixed memory; whatever goes wrong here, the vmcore is still written.
  {
    auto saved = dump.mem
                     ? capture::save_dmesg(*dump.mem, dump.info, join_path(dir, kDmesgFile), false)
                     : Result<capture::SavedDmesg>(*dump.mem_error);
    if (saved) {
      rep.panic = find_panic_line(saved->tail);
      rep.dmesg_bytes = saved->bytes;
    } else {
      spdlog::warn("dmesg.txt: {}", saved.error().message());
    }
  }

  // A level list (-d 11,31) goes on to the next level when the disk fills: the room needed is
  // the last level's, the smallest dump the list can still make.
  const std::vector<int>& levels = cfg_.core_collector.value.settings.dump_levels;
  capture::CaptureRequest smallest = req;
  if (!levels.empty())
    smallest.dump_level = levels.back();
  std::vector<std::string> remove_after;
  CK_TRY(make_room(path_fd, dumps, name, estimate_need(smallest, dump), remove_after));

  capture::DumpOutput out;
  out.path = join_path(dir, kVmcoreFile);
  capture::DumpedOutput done;
  Status result;
  const auto on_retry = [](const std::string& file, int level, int next_level) {
    spdlog::warn("{}: disk full at dump level {}; retrying with level {}", file, level, next_level);
  };
  if (auto stats =
          capture::dump_to_output(req, levels, dump, out, done, console_progress(), on_retry);
      !stats)
    result = std::move(stats).error();
  if (done.stats) {
    rep.stats = done.stats;
    rep.dump_level = done.stats->dump_level;
  }
  if (!done.staged.empty()) {
    // The file's size, not the bytes handed over: the writer rewrites headers in place.
    struct stat vst {};
    const std::string& written = result ? done.final_path : done.staged;
    const bool stat_ok = ::stat(written.c_str(), &vst) == 0;
    rep.vmcore_bytes = stat_ok ? static_cast<std::uint64_t>(vst.st_size) : done.bytes;
    if (result) {
      rep.status = DumpStatus::complete;
      if (rep.stats && rep.stats->unreadable_pages) {
        rep.exit_code = capture::kExitUnreadablePages;
        rep.message = std::to_string(rep.stats->unreadable_pages) +
                      " pages could not be read; recorded as missing";
      }
    } else {
      const bool partial = stat_ok && vst.st_size > 0;
      rep.status = partial ? DumpStatus::incomplete : DumpStatus::failed;
    }
  }
  if (result) {
    for (const auto& old : remove_after) {
      spdlog::info("keep_dumps {}: removing {}", cfg_.keep_dumps.value, join_path(dumps, old));
      if (auto st = remove_dump_dir(path_fd, old, dumps); !st)
        spdlog::warn("{}", st.error().message());
    }
  }
  return result;
}

Status Init::dump_to_raw(const std::string& spec) {
  auto dev = CK_TRY(wait_for_device(spec));
  // `start` refused a foreign signature on this name, but a kernel name can point at another
  // disk in the capture kernel (probe order), and the device may have been reused since.
  auto foreign = CK_TRY_CONTEXT(sys_.foreign_signature(dev), "raw dump target " + spec);
  if (foreign)
    return foreign_signature_refusal(dev, *foreign).context("not written");
  CK_TRY(run_hook(initramfs::image_layout::kHookPreName, cfg_.kdump_pre.value, nullptr));
  UniqueFd fd(::open(dev.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "open").with_path(dev);
  auto req = request_from(cfg_.core_collector.value, paths_.vmcore);
  if (req.format == capture::DumpFormat::elf) {
    spdlog::info("raw target: writing the kdump-compressed format, not ELF, as a flat stream");
    req.format = capture::DumpFormat::kdump;
    req.compression = capture::Compression::zstd;
  }
  capture::DumpOutput out;
  out.flat = true;
  out.stream_fd = fd.get();
  out.stream_name = dev;
  spdlog::info("writing the flattened dump to {} ({})", spec, dev);
  auto dump = capture::open_dump(req.vmcore);
  capture::DumpedOutput done;
  auto stats = dump ? capture::dump_to_output(req, {}, *dump, out, done, console_progress())
                    : Result<capture::CaptureStats>(std::move(dump).error());
  if (!stats) {
    if (!done.stats) // the capture itself failed: the device may hold part of the stream
      out_.status = DumpStatus::incomplete;
    return std::move(stats).error();
  }
  if (::fsync(fd.get()) != 0)
    return Error::from_errno(errno, "fsync").with_path(dev);
  out_.status = DumpStatus::complete;
  spdlog::info("dump complete: {} bytes on {}", done.bytes, dev);
  return {};
}

/// How much of a hook's first line is read for its "#!" interpreter (the kernel reads 256).
constexpr std::size_t kShebangMax = 256;

// A hook that fails or is refused is logged and the capture goes on; one that hangs would keep
// the machine in the capture kernel for good, so it is killed and the capture fails.
Status Init::run_hook(const char* name, const std::vector<std::string>& cfg_argv,
                      const std::string* status) {
  const std::string exe = join_path(paths_.hooks_dir, name);
  struct stat st {};
  if (::stat(exe.c_str(), &st) != 0) {
    if (!cfg_argv.empty())
      spdlog::warn("kdump_{} is set but {} is not in the capture image", name, exe);
    return {};
  }
  if (auto ok = check_hook(exe, st, opts_.hook_owner); !ok) {
    spdlog::error("kdump_{} not run: {}", name, ok.error().message());
    return {};
  }
  {
    UniqueFd fd(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
    std::string head(kShebangMax, '\0');
    auto n = fd.valid() ? read_full(fd.get(), head.data(), head.size(), exe)
                        : Result<std::size_t>(Error::from_errno(errno, "open").with_path(exe));
    if (!n) {
      spdlog::error("kdump_{} not run: {}", name, n.error().message());
      return {};
    }
    head.resize(*n);
    if (const auto interp = shebang_interpreter(head)) {
      struct stat ist {};
      Status ok;
      if (interp->empty() || interp->front() != '/')
        ok = Error(ErrorCategory::usage, "bad #! line").with_path(exe);
      else if (::stat(interp->c_str(), &ist) != 0)
        ok = Error::from_errno(errno, "its #! interpreter").with_path(*interp);
      else // the image's own files belong to root, also when a test runs this as itself
        ok = check_hook(*interp, ist, ist.st_uid == 0 ? 0 : opts_.hook_owner);
      if (!ok) {
        spdlog::error("kdump_{} not run: {}", name, ok.error().message());
        return {};
      }
    }
  }
  std::vector<std::string> argv{exe};
  if (cfg_argv.size() > 1)
    argv.insert(argv.end(), cfg_argv.begin() + 1, cfg_argv.end());
  if (status)
    argv.push_back(*status);
  std::optional<double> timeout;
  if (cfg_.hook_timeout.value > 0)
    timeout = static_cast<double>(cfg_.hook_timeout.value);
  auto rc = sys_.run(argv, timeout);
  if (!rc) {
    if (rc.error().sys_errno() == ETIMEDOUT)
      return std::move(rc).error().context(std::string("kdump_") + name + " (hook_timeout " +
                                           std::to_string(cfg_.hook_timeout.value) + ")");
    spdlog::error("kdump_{}: {}", name, rc.error().message());
  } else if (*rc != 0) {
    spdlog::warn("kdump_{} exited with status {}", name, *rc);
  }
  return {};
}

void Init::take_action(conf::Action a) {
  out_.action_taken = a;
  // A clean filesystem for the next boot (and for readers that do not replay the journal).
  sys_.sync();
  for (auto it = mounted_.rbegin(); it != mounted_.rend(); ++it)
    if (auto st = sys_.unmount(*it); !st)
      spdlog::warn("{}", st.error().message());
  mounted_.clear();
  spdlog::info("{}", conf::action_name(a));
  switch (a) {
  case conf::Action::shell:
    if (auto st = sys_.exec_shell(); !st)
      spdlog::warn("no shell ({}); rebooting", st.error().message());
    else
      return;
    [[fallthrough]];
  case conf::Action::dump_to_rootfs:
  case conf::Action::reboot:
    (void)sys_.power(PowerAction::reboot);
    return;
  case conf::Action::halt:
    (void)sys_.power(PowerAction::halt);
    return;
  case conf::Action::poweroff:
    (void)sys_.power(PowerAction::poweroff);
    return;
  }
}

Status Init::capture() {
  if (paths_.mount_pseudo)
    mount_pseudo();
  spdlog::info("capture init: starting");
  if (!read_config())
    return Error(ErrorCategory::data, "bad configuration").with_path(paths_.config);
  load_modules();
  const conf::Target& t = cfg_.target.value;
  switch (t.kind) {
  case conf::Target::Kind::filesystem:
    CK_TRY(mount_device(t.device.str(), t.fstype, {}, paths_.target_mount));
    return dump_to_directory(paths_.target_mount);
  case conf::Target::Kind::root_fs:
    CK_TRY(mount_rootfs());
    return dump_to_directory(paths_.rootfs_mount);
  case conf::Target::Kind::raw:
    return dump_to_raw(t.device.str());
  }
  return {};
}

void Init::fail(const Error& e) {
  const std::string msg = e.message();
  if (out_.message.empty())
    out_.message = msg;
  spdlog::error("{}", msg);
}

void Init::failure_action() {
  out_.failure_action_ran = true;
  const conf::Action fa = cfg_.failure_action.value;
  if (fa == conf::Action::dump_to_rootfs && cfg_.target.value.kind != conf::Target::Kind::root_fs &&
      out_.status != DumpStatus::complete) {
    spdlog::info("failure_action dump_to_rootfs: saving to the crashed system's root filesystem");
    Status again = mount_rootfs();
    if (again)
      again = dump_to_directory(paths_.rootfs_mount);
    if (again) {
      take_action(cfg_.final_action.value);
      out_.action_taken = conf::Action::dump_to_rootfs;
      return;
    }
    spdlog::error("dump_to_rootfs: {}", again.error().message());
  }
  take_action(fa);
}

// PID 1 must never die of an exception (the capture kernel would panic with nothing saved):
// every step runs guarded, a throw counts as that step's failure, the dump directory still
// gets its report.json, and the machine still ends in final_action or failure_action.
InitOutcome Init::run() {
  const auto guarded = [this](const char* step, auto&& f) -> Status {
    try {
      return f();
    } catch (...) {
      try {
        Error e(ErrorCategory::internal, describe_exception(step));
        if (dir_fd_.valid()) {
          // Thrown between creating the dump directory and writing its report: judge by the
          // files present.
          report_.status = dump_files_status(dir_fd_.get());
          write_report(e);
        }
        return e;
      } catch (...) {
        dir_fd_.reset(); // no memory even to report: go on to the actions
        return Error(ErrorCategory::internal, {});
      }
    }
  };
  Status st = guarded("capture init", [&] { return capture(); });
  if (!st)
    fail(st.error());
  const Status post = guarded("kdump_post", [&] {
    const std::string status(status_name(out_.status));
    return run_hook(initramfs::image_layout::kHookPostName, cfg_.kdump_post.value, &status);
  });
  if (!post) {
    fail(post.error());
    st = post;
  }
  if (st) {
    st = guarded("final_action", [&] {
      take_action(cfg_.final_action.value);
      return Status{};
    });
    if (st)
      return out_;
    fail(st.error());
  }
  const Status last = guarded("failure_action", [&] {
    failure_action();
    return Status{};
  });
  if (!last)
    fail(last.error());
  return out_;
}

} // namespace

InitOutcome run_init(InitSys& sys, const InitPaths& paths, const InitOptions& opts) {
  InitOutcome out;
  try {
    return Init(sys, paths, opts).run();
  } catch (...) {
    // Only when even reporting an exception failed (memory exhausted): the caller, PID 1,
    // stays alive.
    out.failure_action_ran = true;
    return out;
  }
}

Result<RootSpec> parse_root_from_cmdline(const std::string& cmdline) {
  RootSpec r;
  for (auto [b, e] : conf::cmdline_words(cmdline, /*stop_at_dashes=*/true)) {
    std::string word = cmdline.substr(b, e - b);
    std::erase(word, '"');
    // Later words win, as in the kernel's own parsing.
    if (word.starts_with("root="))
      r.device = word.substr(5);
    else if (word.starts_with("rootfstype="))
      r.fstype = word.substr(11);
    else if (word.starts_with("rootflags="))
      r.flags = word.substr(10);
  }
  if (r.device.empty())
    return Error(ErrorCategory::no_input, "no root= on the command line");
  if (!r.device.starts_with("/dev/") && !r.device.starts_with("UUID=") &&
      !r.device.starts_with("LABEL=") && !r.device.starts_with("PARTUUID="))
    return Error(ErrorCategory::unsupported, "root=" + r.device +
                                                 " is not a form crashkit finds "
                                                 "(/dev/..., UUID=, LABEL=, PARTUUID=)");
  if (r.device == "/dev/nfs")
    return Error(ErrorCategory::unsupported, "root=/dev/nfs: network roots are not supported");
  return r;
}

Result<std::uint64_t> estimate_dump_bytes(const std::string& vmcore, int dump_level) {
  const capture::OpenDump dump = CK_TRY(capture::open_dump(vmcore));
  return estimate_dump_bytes(dump, dump_level);
}

Result<std::uint64_t> estimate_dump_bytes(const capture::OpenDump& dump, int dump_level) {
  if (!dump.mem)
    return Error(*dump.mem_error).with_path(dump.core->path());
  const capture::VmcoreFile& core = *dump.core;
  std::vector<std::string> warnings;
  auto filter =
      CK_TRY(capture::PageFilter::create(core, dump.info, dump.mem.get(), dump_level, warnings));
  auto& f = *filter;
  const capture::DumpableCount pages = CK_TRY(capture::count_dumpable(f));
  return capture::KdumpLayout::compute(f.page_size(), core.notes().size(), f.max_mapnr(),
                                       pages.total, f.dump_level() & capture::kExcludeZero)
      .max_file_bytes();
}

Result<UniqueFd> open_dump_path(const std::string& mountpoint, const std::string& path,
                                bool create) {
  UniqueFd fd(::open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid())
    return Error::from_errno(errno, "open").with_path(mountpoint);
  std::string shown = mountpoint;
  CK_TRY(check_trusted_dir(fd.get(), shown));
  std::size_t pos = 0;
  while (pos < path.size()) {
    auto slash = path.find('/', pos);
    if (slash == std::string::npos)
      slash = path.size();
    const std::string part = path.substr(pos, slash - pos);
    pos = slash + 1;
    if (part.empty() || part == ".")
      continue;
    shown = join_path(shown, part);
    if (part == "..")
      return Error(ErrorCategory::data, "\"..\" in the dump path").with_path(shown);
    const bool made = create && ::mkdirat(fd.get(), part.c_str(), 0755) == 0;
    if (create && !made && errno != EEXIST)
      return Error::from_errno(errno, "mkdir").with_path(shown);
    auto next = open_dir_at(fd.get(), part, shown);
    if (!next) {
      const int err = next.error().sys_errno();
      if (err == ENOENT)
        return Error(ErrorCategory::no_input, "does not exist yet").with_path(shown);
      if (err == ELOOP || err == ENOTDIR)
        return Error(ErrorCategory::data, "a symbolic link or not a directory: refusing it on the "
                                          "dump path")
            .with_path(shown);
      return std::move(next).error();
    }
    if (made)
      ::fchmod(next->get(), 0755); // not narrowed by the umask
    CK_TRY(check_trusted_dir(next->get(), shown));
    fd = std::move(*next);
  }
  return fd;
}

Status check_hook_file(const std::string& path, uid_t owner) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Error::from_errno(errno, "stat").with_path(path);
  return check_hook(path, st, owner);
}

} // namespace crashkit::capture_init
