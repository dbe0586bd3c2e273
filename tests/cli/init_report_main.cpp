// crashkit-test-init-report VMCORE CONFIG_LINE...: the capture init (run_init, with the
// FakeInitSys of tests/capture_init standing in for devices, mounts and power) saves VMCORE under
// a temporary target with that crashkit.conf, prints the report.json it wrote and removes the
// tree. Exit 0 when the dump completed. tests/cli/golden/report.json is its output.

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "crashkit/capture_init/capture_init.hpp"
#include "fake_init_sys.hpp"

using namespace crashkit::capture_init;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: crashkit-test-init-report VMCORE CONFIG_LINE...\n", stderr);
    return 64;
  }
  auto logger = spdlog::stderr_logger_st("crashkit-init");
  logger->set_pattern("crashkit-capture: %l: %v");
  spdlog::set_default_logger(logger);

  char tmpl[] = "/tmp/ck-init-report-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 73;
  }
  const std::filesystem::path root = tmpl;
  for (const char* d : {"etc/crashkit/hooks", "proc", "mnt/target", "mnt/root"})
    std::filesystem::create_directories(root / d);

  InitPaths paths;
  paths.config = root / "etc/crashkit/crashkit.conf";
  paths.modules = root / "etc/crashkit/modules.load";
  paths.hooks_dir = root / "etc/crashkit/hooks";
  paths.vmcore = argv[1];
  paths.cmdline = root / "proc/cmdline";
  paths.target_mount = root / "mnt/target";
  paths.rootfs_mount = root / "mnt/root";
  paths.mount_pseudo = false;
  {
    std::ofstream conf(paths.config);
    for (int i = 2; i < argc; ++i)
      conf << argv[i] << '\n';
  }
  InitOptions opts;
  opts.device_timeout_s = 2;
  opts.hook_owner = ::getuid();
  FakeInitSys sys;
  sys.devices["UUID=0b3c-data"] = "/dev/vdb";

  const InitOutcome out = run_init(sys, paths, opts);
  std::ifstream report(out.dump_dir + "/report.json");
  std::cout << report.rdbuf();
  std::filesystem::remove_all(root);
  return out.status == DumpStatus::complete ? 0 : 1;
}
