#include "rebuild_command.hpp"

#include <unistd.h>

#include <cstdio>

#include "config_commands.hpp"
#include "crashkit/admin/default_crashkernel.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "crashkit/initramfs/builder.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_rebuild_command(CLI::App& app, RebuildArgs& a) {
  auto* sub = app.add_subcommand(
      "rebuild", "write the capture initramfs (/var/lib/crashkit/initramfs-KVER.img) if its inputs "
                 "changed since the last build");
  sub->add_option("--root", a.root,
                  "build from the system tree at DIR (config, binaries, "
                  "modules and output below it)");
  sub->add_option("--kernel", a.kernel, "kernel version (default: the running kernel)");
  sub->add_option("-o,--output", a.output, "image file (default below --root)");
  sub->add_option("--capture-binary", a.capture_binary,
                  "use this crashkit-capture instead of the installed one");
  sub->add_flag("-f,--force", a.force, "rebuild even when up to date or force_no_rebuild is set");
  return sub;
}

initramfs::BuildRequest build_request(const std::string& root, const std::string& kernel) {
  initramfs::BuildRequest req;
  req.root = root;
  req.kernel = kernel.empty() ? admin::running_release() : kernel;
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    req.tool_binaries.emplace_back(self, static_cast<std::size_t>(n));
  return req;
}

int run_rebuild(const RebuildArgs& a) {
  auto config = load_config_or_report(a.root, "nothing was built");
  if (!config)
    return kExitBadConfig;
  initramfs::BuildRequest req = build_request(a.root, a.kernel);
  req.output = a.output;
  req.capture_binary = a.capture_binary;
  if (!a.sysroot.empty()) {
    req.system.sysfs = a.sysroot + "/sys";
    req.system.proc = a.sysroot + "/proc";
    req.system.dev = a.sysroot + "/dev";
  }
  auto out = initramfs::rebuild_if_needed(req, *config, a.force);
  if (!out)
    return report_error(out.error());
  for (const auto& w : out->warnings)
    std::fprintf(stderr, "crashkit: warning: %s\n", w.c_str());
  if (!out->rebuilt) {
    if (out->reason.empty())
      std::printf("up to date: %s\n", out->image.c_str());
    else
      std::printf("not rebuilt: %s (%s)\n", out->image.c_str(), out->reason.c_str());
    return 0;
  }
  std::printf("wrote %s: %zu files, %zu modules, %llu bytes (%llu unpacked); %s\n",
              out->image.c_str(), out->files, out->modules,
              static_cast<unsigned long long>(out->image_bytes),
              static_cast<unsigned long long>(out->unpacked_bytes), out->reason.c_str());
  return 0;
}

} // namespace crashkit::cli
