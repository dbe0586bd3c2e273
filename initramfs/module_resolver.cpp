#include "crashkit/initramfs/module_resolver.hpp"

#include <libkmod.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <set>

namespace crashkit::initramfs {
namespace {

void kmod_log_to_spdlog(void*, int priority, const char*, int, const char*, const char* format,
                        va_list args) {
  char buf[512];
  std::vsnprintf(buf, sizeof buf, format, args);
  std::string line(buf);
  while (!line.empty() && line.back() == '\n')
    line.pop_back();
  if (priority <= 3)
    spdlog::debug("libkmod: {}", line); // libkmod's errors come back as return values too
  else
    spdlog::trace("libkmod: {}", line);
}

struct ListDeleter {
  void operator()(kmod_list* l) const { kmod_module_unref_list(l); }
};
using ListPtr = std::unique_ptr<kmod_list, ListDeleter>;
struct ModDeleter {
  void operator()(kmod_module* m) const { kmod_module_unref(m); }
};
using ModPtr = std::unique_ptr<kmod_module, ModDeleter>;

class Walk {
public:
  Walk(const std::string& dir) : dir_(dir) {}

  Status visit(kmod_module* mod, const std::string& why) {
    const std::string name = kmod_module_get_name(mod);
    if (done_.count(name) || active_.count(name))
      return {};
    // Built-in means "no file" for this kernel. kmod_module_get_initstate() is not used: for a
    // module that is not in modules.builtin it reads /sys/module of the *running* kernel,
    // which says nothing about KVER.
    const char* path = kmod_module_get_path(mod);
    if (!path) {
      spdlog::debug("module {} ({}): built into the kernel, nothing to load", name, why);
      done_.insert(name);
      return {};
    }
    active_.insert(name);
    kmod_list* pre_raw = nullptr;
    kmod_list* post_raw = nullptr;
    if (kmod_module_get_softdeps(mod, &pre_raw, &post_raw) == 0) {
      ListPtr pre(pre_raw), post(post_raw);
      kmod_list* l = nullptr;
      kmod_list_foreach(l, pre.get()) {
        ModPtr dep(kmod_module_get_module(l));
        CK_TRY(visit(dep.get(), "softdep of " + name));
      }
    }
    ListPtr deps(kmod_module_get_dependencies(mod));
    kmod_list* l = nullptr;
    kmod_list_foreach(l, deps.get()) {
      ModPtr dep(kmod_module_get_module(l));
      CK_TRY(visit(dep.get(), "needed by " + name));
    }
    const std::string p = path;
    const std::string prefix = dir_ + "/";
    if (p.compare(0, prefix.size(), prefix) != 0)
      return Error(ErrorCategory::data, "module " + name + " is at " + p + ", outside " + dir_);
    out_.push_back({name, p.substr(prefix.size())});
    active_.erase(name);
    done_.insert(name);
    return {};
  }

  std::vector<ModuleFile> take() { return std::move(out_); }

private:
  const std::string& dir_;
  std::set<std::string> done_, active_;
  std::vector<ModuleFile> out_;
};

} // namespace

void ModuleResolver::CtxDeleter::operator()(kmod_ctx* c) const {
  kmod_unref(c);
}

Result<ModuleResolver> ModuleResolver::create(const RootDir& root, const std::string& kernel) {
  const std::string tree_dir = "/lib/modules/" + kernel;
  const std::string dir = root.host_path(tree_dir);
  if (!root.is_directory(tree_dir))
    return Error(ErrorCategory::no_input,
                 "no module directory for kernel " + kernel + " (is it installed?)")
        .with_path(dir);
  if (!root.is_regular_file(tree_dir + "/modules.dep.bin"))
    return Error(ErrorCategory::no_input, "modules.dep.bin missing: run depmod " + kernel)
        .with_path(dir);
  // No modprobe.d: blacklists and options do not change which files are needed, and the
  // capture kernel gets none of them. depmod's modules.softdep is still read by libkmod.
  static const char* const kNoConfig[] = {nullptr};
  kmod_ctx* ctx = kmod_new(dir.c_str(), kNoConfig);
  if (!ctx)
    return Error(ErrorCategory::io, "libkmod cannot use this directory").with_path(dir);
  kmod_set_log_fn(ctx, kmod_log_to_spdlog, nullptr);
  if (int r = kmod_load_resources(ctx); r < 0) {
    kmod_unref(ctx);
    return Error(ErrorCategory::data, "libkmod cannot load the module indexes", -r).with_path(dir);
  }
  return ModuleResolver(dir, ctx);
}

Result<std::vector<ModuleFile>>
ModuleResolver::resolve(const std::vector<ModuleRequest>& requests) const {
  Walk walk(dir_);
  for (const auto& req : requests) {
    kmod_list* raw = nullptr;
    int r = kmod_module_new_from_lookup(ctx_.get(), req.name.c_str(), &raw);
    if (r >= 0 && !raw && !req.fallback.empty())
      r = kmod_module_new_from_lookup(ctx_.get(), req.fallback.c_str(), &raw);
    ListPtr list(raw);
    if (r < 0)
      return Error(ErrorCategory::data, "module " + req.name + " (" + req.why + "): lookup failed",
                   -r)
          .with_path(dir_);
    if (!list) {
      if (req.required)
        return Error(ErrorCategory::no_input,
                     "module " + req.name + " (" + req.why + ") not found in " + dir_);
      if (req.warn_missing)
        spdlog::warn("module {} ({}) not found in {}; not included", req.name, req.why, dir_);
      else
        spdlog::debug("module {} ({}) not found in {}", req.name, req.why, dir_);
      continue;
    }
    kmod_list* l = nullptr;
    kmod_list_foreach(l, list.get()) {
      ModPtr mod(kmod_module_get_module(l));
      CK_TRY(walk.visit(mod.get(), req.why));
    }
  }
  return walk.take();
}

} // namespace crashkit::initramfs
