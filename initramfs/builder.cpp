#include "crashkit/initramfs/builder.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "crashkit/base/hook_policy.hpp"
#include "crashkit/base/io.hpp"
#include "crashkit/base/path.hpp"
#include "crashkit/initramfs/decompress.hpp"
#include "crashkit/initramfs/elf_deps.hpp"
#include "crashkit/initramfs/root_dir.hpp"
#include "crashkit/initramfs/sha256.hpp"

#ifndef CRASHKIT_CAPTURE_BINARY
#define CRASHKIT_CAPTURE_BINARY "/usr/sbin/crashkit-capture"
#endif

namespace fs = std::filesystem;

namespace crashkit::initramfs {
namespace {

/// ".xz", ".zst" or ".gz" when path is a compressed kernel module, else "".
std::string compressed_module_suffix(const std::string& path) {
  for (const char* suf : {".ko.xz", ".ko.zst", ".ko.gz"}) {
    const std::string_view sv(suf);
    if (path.size() > sv.size() && path.compare(path.size() - sv.size(), sv.size(), sv) == 0)
      return std::string(sv.substr(3));
  }
  return {};
}

bool is_elf(const std::string& data) {
  return data.compare(0, 4,
                      "\x7f"
                      "ELF") == 0;
}

/// Adds an ELF program's interpreter and libraries to the image.
Status add_elf_closure(const RootDir& root, ImageContents& img, const std::string& data,
                       const std::string& name, const std::string& dir) {
  auto libs = CK_TRY(resolve_elf_closure(root, data, name, dir));
  for (auto& [path, content] : libs)
    img.add_file(path, std::move(content), 0755);
  return {};
}

/// kdump_pre / kdump_post: the executable (argv[0], a tree path) copied to image_path.
Status add_hook(const RootDir& root, ImageContents& img,
                const conf::Sourced<std::vector<std::string>>& hook, const std::string& directive,
                const std::string& image_path) {
  if (hook.value.empty())
    return {};
  const std::string& exe = hook.value.front();
  const std::string where = hook.origin.str() + ": " + directive + " " + exe;
  if (exe.empty() || exe.front() != '/')
    return Error(ErrorCategory::data, where + ": not an absolute path");
  auto st = CK_TRY_CONTEXT(root.stat(exe), where);
  const std::string host = root.host_path(exe);
  switch (check_hook_stat(st, 0)) {
  case HookProblem::none:
    break;
  case HookProblem::not_regular:
    return Error(ErrorCategory::data, where + ": " + host + " is not a regular file");
  case HookProblem::wrong_owner:
    return Error(ErrorCategory::data, where + ": refusing " + host + ": owned by uid " +
                                          std::to_string(st.st_uid) + ", not root");
  case HookProblem::writable: {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
    return Error(ErrorCategory::data, where + ": refusing " + host +
                                          ": writable by group or others (mode " + mode + ")");
  }
  case HookProblem::not_executable:
    return Error(ErrorCategory::data, where + ": " + host + " is not executable");
  }
  auto data = CK_TRY_CONTEXT(root.read_file(exe), where);
  if (is_elf(data)) {
    CK_TRY(add_elf_closure(root, img, data, exe, dirname_of(exe)));
  } else if (const auto script = shebang_interpreter(data)) {
    // A script runs only with its interpreter; take it (and its libraries) from the tree.
    const std::string& interp = *script;
    if (interp.empty() || interp.front() != '/')
      return Error(ErrorCategory::data, where + ": bad #! line");
    auto ist = CK_TRY_CONTEXT(root.stat(interp), where + ": interpreter");
    if (check_hook_stat(ist, 0) != HookProblem::none)
      return Error(ErrorCategory::data, where + ": refusing its interpreter " +
                                            root.host_path(interp) +
                                            ": it must be a root-owned executable file that "
                                            "group and others cannot write");
    auto idata = CK_TRY_CONTEXT(root.read_file(interp), where + ": interpreter");
    if (is_elf(idata))
      CK_TRY(add_elf_closure(root, img, idata, interp, dirname_of(interp)));
    img.add_file(interp, std::move(idata), 0755);
    spdlog::warn("{}: a script; the image has {} but no other commands", where, interp);
  }
  img.add_file(image_path, std::move(data), 0755);
  return {};
}

Status ensure_private_dir(const std::string& dir, bool force_mode) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    const fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec)) {
      fs::create_directories(parent, ec);
      if (ec)
        return Error::from_errno(ec.value(), "cannot create").with_path(parent.string());
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return Error::from_errno(errno, "cannot create").with_path(dir);
    force_mode = true;
  }
  if (force_mode && ::chmod(dir.c_str(), 0700) != 0)
    return Error::from_errno(errno, "chmod 0700").with_path(dir);
  return {};
}

} // namespace

std::string default_image_path(const std::string& root, const std::string& kernel) {
  std::string r = root;
  while (!r.empty() && r.back() == '/')
    r.pop_back();
  return r + "/var/lib/crashkit/initramfs-" + kernel + ".img";
}

std::string installed_capture_binary() {
  return CRASHKIT_CAPTURE_BINARY;
}

Result<ImagePlan> plan_image(const BuildRequest& req, const conf::Config& config) {
  if (req.kernel.empty())
    return Error(ErrorCategory::usage, "no kernel version given");
  auto root = CK_TRY(RootDir::open(req.root));
  ImagePlan plan;
  ImageContents& img = plan.contents;

  // /init and what it links.
  std::string capture_name = req.capture_binary;
  Result<std::string> capture = std::string();
  std::string capture_dir;
  if (capture_name.empty()) {
    capture_name = root.host_path(installed_capture_binary());
    capture = root.read_file(installed_capture_binary());
    capture_dir = dirname_of(installed_capture_binary());
  } else {
    capture = read_whole_file(capture_name);
    capture_dir = "/";
  }
  if (!capture)
    return std::move(capture).error().context("capture program");
  CK_TRY(add_elf_closure(root, img, *capture, capture_name, capture_dir));
  img.add_file("/init", std::move(*capture), 0755);

  // Configuration.
  const std::string config_text = conf::render_config(config);
  img.add_file(image_layout::kConfig, config_text, 0644);

  // Modules.
  auto requests = CK_TRY(target_module_requests(config, req.root, req.system));
  auto resolver = CK_TRY(ModuleResolver::create(root, req.kernel));
  auto modules = CK_TRY(resolver.resolve(requests));
  std::string load_list;
  for (const auto& m : modules) {
    std::string path = "/lib/modules/" + req.kernel + "/" + m.relative_path;
    auto data = CK_TRY_CONTEXT(root.read_file(path), "module " + m.name);
    // The capture init inserts modules with a bare finit_module(2): store them uncompressed
    // (the image itself is zstd-compressed, so this costs nothing in size).
    if (auto suffix = compressed_module_suffix(path); !suffix.empty()) {
      data = CK_TRY_CONTEXT(decompress_whole(data, path), "module " + m.name);
      path.resize(path.size() - suffix.size());
    }
    img.add_file(path, std::move(data), 0644);
    load_list += path + "\n";
  }
  img.add_file(image_layout::kModulesLoad, load_list, 0644);
  plan.modules = std::move(modules);

  CK_TRY(add_hook(root, img, config.kdump_pre, "kdump_pre", image_layout::kHookPre));
  CK_TRY(add_hook(root, img, config.kdump_post, "kdump_post", image_layout::kHookPost));

  // Mount points for the capture init, and a console before devtmpfs is mounted.
  for (const char* d : {"/dev", "/proc", "/sys", "/run", "/mnt"})
    img.add_directory(d, 0755);
  img.add_directory("/tmp", 01777);
  img.add_char_device("/dev/console", 5, 1, 0600);

  Manifest& m = plan.manifest;
  m.kernel = req.kernel;
  m.config_sha256 = sha256_hex(config_text);
  for (const auto& [path, e] : img.entries())
    if (e.kind == ImageEntry::Kind::file)
      m.files[path] = sha256_hex(e.data);
  for (const auto& b : req.tool_binaries) {
    auto data = CK_TRY_CONTEXT(read_whole_file(b), "crashkit program");
    m.binaries[b] = sha256_hex(data);
  }
  return plan;
}

Result<std::uint64_t> write_image(ImagePlan& plan, const std::string& output, int zstd_level,
                                  bool private_dir) {
  auto bytes = CK_TRY_CONTEXT(write_newc_zstd(plan.contents, zstd_level), "write " + output);
  plan.manifest.image_sha256 = sha256_hex(bytes);
  const std::string dir = dirname_of(output);
  CK_TRY(ensure_private_dir(dir, private_dir));
  CK_TRY(write_file_atomic(output, bytes, 0600));
  CK_TRY(write_file_atomic(manifest_path(output), plan.manifest.to_json(), 0600));
  return static_cast<std::uint64_t>(bytes.size());
}

Result<RebuildOutcome> rebuild_if_needed(const BuildRequest& req, const conf::Config& config,
                                         bool force) {
  RebuildOutcome out;
  out.image = req.output.empty() ? default_image_path(req.root, req.kernel) : req.output;
  struct stat st {};
  const bool exists = ::stat(out.image.c_str(), &st) == 0;
  const bool keep = !force && config.force_no_rebuild.value && exists;
  // Checked on every call, up to date or not: the devices under the target change (an LV moved
  // onto LUKS) without the image's inputs changing, and start must not arm a capture that
  // cannot reach them. A kept image does not need its target found (kdump-utils#119), but a
  // target found and unreachable is refused all the same.
  auto reach = check_capture_reach(config, req.root, req.system);
  if (!reach && (!keep || reach.error().category() == ErrorCategory::unsupported))
    return std::move(reach).error();
  if (reach)
    out.warnings = std::move(*reach);
  if (keep) {
    out.reason = "force_no_rebuild set at " + config.force_no_rebuild.origin.str();
    return out;
  }
  auto plan = CK_TRY(plan_image(req, config));
  if (force) {
    out.reason = "--force";
  } else if (config.force_rebuild.value) {
    out.reason = "force_rebuild set at " + config.force_rebuild.origin.str();
  } else {
    auto why = CK_TRY(stale_reason(out.image, plan.manifest));
    out.reason = exists ? why : "no image yet";
  }
  out.files = plan.manifest.files.size();
  out.unpacked_bytes = plan.contents.file_bytes();
  out.modules = plan.modules.size();
  if (out.reason.empty()) {
    out.image_bytes = static_cast<std::uint64_t>(st.st_size);
    return out;
  }
  auto size = CK_TRY(write_image(plan, out.image, req.zstd_level, req.output.empty()));
  out.rebuilt = true;
  out.image_bytes = size;
  return out;
}

} // namespace crashkit::initramfs
