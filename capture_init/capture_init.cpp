#include "crashkit/capture_init/capture_init.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "crashkit/base/hook_policy.hpp"
#include "crashkit/base/io.hpp"
#include "crashkit/base/path.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/dmesg.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture/page_compressor.hpp"
#include "crashkit/capture/page_filter.hpp"
#include "crashkit/capture_init/retention.hpp"
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
      return std::move(Error::from_errno(errno, "mkdir").with_path(cur));
    struct stat st {};
    if (::stat(cur.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return std::move(Error(ErrorCategory::io, "exists and is not a directory").with_path(cur));
  }
  return {};
}

Status remove_tree(const std::string& path) {
  const int rc = ::nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int type, struct FTW*) {
        return type == FTW_DP ? ::rmdir(p) : ::unlink(p);
      },
      16, FTW_DEPTH | FTW_PHYS);
  if (rc != 0)
    return std::move(Error::from_errno(errno, "remove").with_path(path));
  return {};
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d)
    return std::move(Error::from_errno(errno, "opendir").with_path(dir));
  std::vector<std::string> out;
  while (auto* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..")
      out.push_back(std::move(n));
  }
  return out;
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
  capture::CaptureRequest req;
  req.vmcore = vmcore;
  req.dump_level = static_cast<int>(cc.dump_level.value_or(31));
  if (cc.compression) {
    switch (*cc.compression) {
    case conf::Compression::zlib:
      req.compression = capture::Compression::zlib;
      break;
    case conf::Compression::lzo:
      req.compression = capture::Compression::lzo;
      break;
    case conf::Compression::snappy:
      req.compression = capture::Compression::snappy;
      break;
    case conf::Compression::zstd:
      req.compression = capture::Compression::zstd;
      break;
    case conf::Compression::none:
      req.compression = capture::Compression::none;
      break;
    }
  }
  if (cc.format == conf::DumpFormat::elf) {
    req.format = capture::DumpFormat::elf;
    req.compression = capture::Compression::none;
  }
  if (cc.threads)
    req.threads = *cc.threads;
  if (cc.non_mmap)
    req.read_mode = capture::ReadMode::pread;
  // In a small reservation every MiB counts (measured at crashkernel=96M on a 2 GiB guest:
  // ~36 MiB free after boot, 9 of it the initramfs itself).
  req.low_memory = mem_available_kib() < kLowMemoryKib;
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
    return std::move(Error(ErrorCategory::usage, std::move(why)).with_path(path));
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
  Status check_space(const std::string& dumps, const capture::CaptureRequest& req,
                     const capture::OpenDump& dump);
  Status dump_to_directory(const std::string& mountpoint);
  Status dump_to_raw(const std::string& spec);
  void run_hook(const char* name, const std::vector<std::string>& cfg_argv,
                const std::string* status);
  void take_action(conf::Action a);

  InitSys& sys_;
  const InitPaths& paths_;
  const InitOptions& opts_;
  conf::Config cfg_;
  InitOutcome out_;
  std::vector<std::string> mounted_; ///< dump filesystems, unmounted before the end
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
  auto dev = wait_for_device(spec);
  if (!dev)
    return std::move(dev).error();
  if (fstype.empty()) {
    auto t = sys_.probe_fstype(*dev);
    if (!t)
      return std::move(t).error();
    fstype = *t;
  }
  CK_TRY_STATUS(mkdir_p(mountpoint, 0755));
  auto st = sys_.mount(*dev, mountpoint, fstype, 0, flags);
  if (!st)
    return std::move(st).error();
  mounted_.push_back(mountpoint);
  spdlog::info("mounted {} ({}, {}) at {}", spec, *dev, fstype, mountpoint);
  return {};
}

Status Init::mount_rootfs() {
  auto cmdline = read_whole_file(paths_.cmdline);
  if (!cmdline)
    return std::move(cmdline).error();
  auto root = parse_root_from_cmdline(*cmdline);
  if (!root)
    return std::move(root).error().context("crashed system's root from " + paths_.cmdline);
  // rootflags usually holds "ro"-style options the first kernel remounted later; only keep
  // what a read-write mount can use.
  std::string flags;
  std::size_t pos = 0;
  while (pos <= root->flags.size() && !root->flags.empty()) {
    auto comma = root->flags.find(',', pos);
    if (comma == std::string::npos)
      comma = root->flags.size();
    const std::string f = root->flags.substr(pos, comma - pos);
    pos = comma + 1;
    if (!f.empty() && f != "ro" && f != "rw")
      flags += (flags.empty() ? "" : ",") + f;
  }
  return mount_device(root->device, root->fstype, flags, paths_.rootfs_mount);
}

Status Init::check_space(const std::string& dumps, const capture::CaptureRequest& req,
                         const capture::OpenDump& dump) {
  std::uint64_t need = 0;
  auto est = estimate_dump_bytes(dump, req.dump_level);
  if (est) {
    need = *est;
  } else {
    // No usable filter (no VMCOREINFO): the writer can only drop zero pages, so plan for all.
    struct stat st {};
    if (::stat(req.vmcore.c_str(), &st) == 0)
      need = static_cast<std::uint64_t>(st.st_size);
    spdlog::warn("estimating the dump size: {}; assuming the whole vmcore ({})",
                 est.error().message(), mib(need));
  }
  auto space = sys_.space(dumps);
  if (!space)
    return std::move(space).error();
  const std::uint64_t min_free = cfg_.min_free.value;
  spdlog::info("space: {} available, dump estimate {} + min_free {}", mib(space->available),
               mib(need), mib(min_free));
  if (space->available < need || space->available - need < min_free)
    return std::move(Error(ErrorCategory::no_space,
                           "not enough space for the dump: " + mib(space->available) +
                               " available, " + mib(need) + " estimated + " + mib(min_free) +
                               " min_free needed; nothing written, old dumps kept",
                           ENOSPC)
                         .with_path(dumps));
  return {};
}

Status Init::dump_to_directory(const std::string& mountpoint) {
  const std::string dumps = join_path(mountpoint, cfg_.path.value);
  CK_TRY_STATUS(mkdir_p(dumps, 0755));

  auto req = request_from(cfg_.core_collector.value, paths_.vmcore);
  if (cfg_.core_collector.value.format == conf::DumpFormat::flat)
    spdlog::info("core_collector asks for the flattened format; a filesystem target gets the "
                 "kdump-compressed file it reassembles to");
  // Open the vmcore before anything is removed or created: without one there is nothing to
  // save, and old dumps must not go for nothing.
  auto dump = capture::open_dump(req.vmcore);
  if (!dump)
    return std::move(dump).error();
  if (auto entries = list_dir(dumps); !entries) {
    return std::move(entries).error();
  } else {
    for (const auto& name : dumps_to_remove(*entries, cfg_.keep_dumps.value)) {
      spdlog::info("keep_dumps {}: removing {}", cfg_.keep_dumps.value, join_path(dumps, name));
      if (auto st = remove_tree(join_path(dumps, name)); !st)
        spdlog::warn("{}", st.error().message());
    }
  }

  CK_TRY_STATUS(check_space(dumps, req, *dump));

  const double t0 = sys_.monotonic();
  const std::int64_t when = sys_.wall_time();
  std::string dir;
  for (int attempt = 0;; ++attempt) {
    dir = join_path(dumps, dump_dir_name(when + attempt));
    if (::mkdir(dir.c_str(), 0700) == 0)
      break;
    if (errno != EEXIST || attempt >= 5)
      return std::move(Error::from_errno(errno, "mkdir").with_path(dir));
  }
  ::chmod(dir.c_str(), 0700);
  out_.dump_dir = dir;
  spdlog::info("saving to {}", dir);

  run_hook(conf::image_layout::kHookPreName, cfg_.kdump_pre.value, nullptr);

  DumpReport rep;
  rep.time = when;
  rep.dump_level = req.dump_level;
  rep.format = req.format == capture::DumpFormat::elf ? "elf" : "kdump";
  rep.compression = capture::compression_name(req.compression);

  // dmesg first: small, and what an administrator reads first when the vmcore does not fit.
  rep.kernel = dump->info.osrelease();
  // Streamed with fixed memory; whatever goes wrong here, the vmcore is still written.
  {
    auto saved =
        dump->mem ? capture::save_dmesg(*dump->mem, dump->info, join_path(dir, "dmesg.txt"), false)
                  : Result<capture::SavedDmesg>(*dump->mem_error);
    if (saved) {
      rep.panic = find_panic_line(saved->tail);
      rep.dmesg_bytes = saved->bytes;
    } else {
      spdlog::warn("dmesg.txt: {}", saved.error().message());
    }
  }

  Status result;
  {
    auto sink = capture::FileSink::create(join_path(dir, "vmcore"), false, /*direct_io=*/true);
    if (!sink) {
      result = std::move(sink).error();
    } else {
      auto stats = capture::run_capture(req, *dump, **sink, console_progress());
      if (stats) {
        rep.stats = *stats;
        rep.dump_level = stats->dump_level;
        result = (*sink)->finish();
      } else {
        (void)(*sink)->flush();
        result = std::move(stats).error();
      }
      // The file's size, not the bytes handed over: the writer rewrites headers in place.
      struct stat vst {};
      const std::string& written = result ? (*sink)->final_path() : (*sink)->name();
      const bool stat_ok = ::stat(written.c_str(), &vst) == 0;
      rep.vmcore_bytes =
          stat_ok ? static_cast<std::uint64_t>(vst.st_size) : (*sink)->bytes_written();
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
  }
  if (!result) {
    rep.exit_code = exit_code_for(result.error().category());
    rep.message = result.error().message();
  }
  rep.duration_s = sys_.monotonic() - t0;
  out_.status = rep.status;
  if (auto st = write_file_atomic(join_path(dir, "report.json"), report_json(rep), 0600); !st)
    spdlog::warn("{}", st.error().message());
  spdlog::info("dump {} in {:.1f} s: {} bytes vmcore, {} bytes dmesg", status_name(rep.status),
               rep.duration_s, rep.vmcore_bytes, rep.dmesg_bytes);
  return result;
}

Status Init::dump_to_raw(const std::string& spec) {
  auto dev = wait_for_device(spec);
  if (!dev)
    return std::move(dev).error();
  run_hook(conf::image_layout::kHookPreName, cfg_.kdump_pre.value, nullptr);
  UniqueFd fd(::open(dev->c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid())
    return std::move(Error::from_errno(errno, "open").with_path(*dev));
  auto req = request_from(cfg_.core_collector.value, paths_.vmcore);
  if (req.format == capture::DumpFormat::elf) {
    spdlog::info("raw target: writing the kdump-compressed format, not ELF, as a flat stream");
    req.format = capture::DumpFormat::kdump;
    req.compression = capture::Compression::zstd;
  }
  capture::FlatSink sink(fd.get(), *dev);
  spdlog::info("writing the flattened dump to {} ({})", spec, *dev);
  auto stats = capture::run_capture(req, sink, console_progress());
  if (!stats) {
    out_.status = DumpStatus::incomplete;
    return std::move(stats).error();
  }
  CK_TRY_STATUS(sink.finish());
  if (::fsync(fd.get()) != 0)
    return std::move(Error::from_errno(errno, "fsync").with_path(*dev));
  out_.status = DumpStatus::complete;
  spdlog::info("dump complete: {} bytes on {}", sink.bytes_written(), *dev);
  return {};
}

void Init::run_hook(const char* name, const std::vector<std::string>& cfg_argv,
                    const std::string* status) {
  const std::string exe = join_path(paths_.hooks_dir, name);
  struct stat st {};
  if (::stat(exe.c_str(), &st) != 0) {
    if (!cfg_argv.empty())
      spdlog::warn("kdump_{} is set but {} is not in the capture image", name, exe);
    return;
  }
  if (auto ok = check_hook(exe, st, opts_.hook_owner); !ok) {
    spdlog::error("kdump_{} not run: {}", name, ok.error().message());
    return;
  }
  std::vector<std::string> argv{exe};
  if (cfg_argv.size() > 1)
    argv.insert(argv.end(), cfg_argv.begin() + 1, cfg_argv.end());
  if (status)
    argv.push_back(*status);
  auto rc = sys_.run(argv);
  if (!rc)
    spdlog::error("kdump_{}: {}", name, rc.error().message());
  else if (*rc != 0)
    spdlog::warn("kdump_{} exited with status {}", name, *rc);
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

InitOutcome Init::run() {
  if (paths_.mount_pseudo)
    mount_pseudo();
  spdlog::info("capture init: starting");
  Status st;
  if (!read_config()) {
    st = Error(ErrorCategory::data, "bad configuration").with_path(paths_.config);
  } else {
    load_modules();
    const conf::Target& t = cfg_.target.value;
    switch (t.kind) {
    case conf::Target::Kind::filesystem:
      st = mount_device(t.device.str(), t.fstype, {}, paths_.target_mount);
      if (st)
        st = dump_to_directory(paths_.target_mount);
      break;
    case conf::Target::Kind::root_fs:
      st = mount_rootfs();
      if (st)
        st = dump_to_directory(paths_.rootfs_mount);
      break;
    case conf::Target::Kind::raw:
      st = dump_to_raw(t.device.str());
      break;
    }
  }
  if (!st) {
    out_.message = st.error().message();
    spdlog::error("{}", out_.message);
  }
  {
    const std::string status(status_name(out_.status));
    run_hook(conf::image_layout::kHookPostName, cfg_.kdump_post.value, &status);
  }
  if (st) {
    take_action(cfg_.final_action.value);
    return out_;
  }
  out_.failure_action_ran = true;
  conf::Action fa = cfg_.failure_action.value;
  if (fa == conf::Action::dump_to_rootfs && cfg_.target.value.kind != conf::Target::Kind::root_fs &&
      out_.status != DumpStatus::complete) {
    spdlog::info("failure_action dump_to_rootfs: saving to the crashed system's root filesystem");
    Status again = mount_rootfs();
    if (again)
      again = dump_to_directory(paths_.rootfs_mount);
    if (again) {
      take_action(cfg_.final_action.value);
      out_.action_taken = conf::Action::dump_to_rootfs;
      return out_;
    }
    spdlog::error("dump_to_rootfs: {}", again.error().message());
  }
  take_action(fa);
  return out_;
}

} // namespace

InitOutcome run_init(InitSys& sys, const InitPaths& paths, const InitOptions& opts) {
  return Init(sys, paths, opts).run();
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
  auto dump = capture::open_dump(vmcore);
  if (!dump)
    return std::move(dump).error();
  return estimate_dump_bytes(*dump, dump_level);
}

Result<std::uint64_t> estimate_dump_bytes(const capture::OpenDump& dump, int dump_level) {
  if (!dump.mem)
    return Error(*dump.mem_error).with_path(dump.core->path());
  const capture::VmcoreFile& core = *dump.core;
  std::vector<std::string> warnings;
  auto filter = capture::PageFilter::create(core, dump.info, dump.mem.get(), dump_level, warnings);
  if (!filter)
    return std::move(filter).error();
  auto& f = **filter;
  capture::Bitmap ram, dumpable;
  std::uint64_t pages = 0;
  for (std::uint64_t b = 0; b < f.max_mapnr(); b += f.cycle_pfns()) {
    CK_TRY_STATUS(f.build(b, std::min(f.max_mapnr(), b + f.cycle_pfns()), ram, dumpable, nullptr));
    pages += dumpable.popcount();
  }
  const std::uint64_t B = f.page_size();
  // Header blocks, notes, two bitmaps, one 24-byte descriptor per page.
  const std::uint64_t meta =
      2 * B + core.notes().size() + 2 * ((f.max_mapnr() + 7) / 8) + pages * 24;
  return pages * B + meta;
}

Status check_hook_file(const std::string& path, uid_t owner) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return std::move(Error::from_errno(errno, "stat").with_path(path));
  return check_hook(path, st, owner);
}

} // namespace crashkit::capture_init
