// crashkit-capture: writes a dump of a crashed kernel (crashkit::capture), or runs as PID 1 of
// the capture initramfs (crashkit::capture_init).

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "capture_cli/capture_commands.hpp"
#include "capture_cli/capture_options.hpp"
#include "crashkit/capture_init/capture_init.hpp"

namespace {

// PID 1 of the capture initramfs (or `crashkit-capture --init`). The kernel hands PID 1 the
// command-line words it did not recognise as arguments: they are ignored.
int run_as_init() {
  crashkit::capture_init::InitOutcome out;
  try {
    auto logger = spdlog::stderr_logger_st("crashkit-init");
    logger->set_pattern("crashkit-capture: %l: %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::info);
    ::umask(077);
    crashkit::capture_init::RealInitSys sys;
    out = crashkit::capture_init::run_init(sys, {}, {});
  } catch (...) {
    // run_init catches everything itself; this is the logger setup failing. PID 1 must not
    // exit, whatever happened.
    std::fputs("crashkit-capture: capture init failed before it could start\n", stderr);
  }
  if (::getpid() != 1)
    return out.status == crashkit::capture_init::DumpStatus::complete ? 0 : 1;
  // The final action failed: PID 1 must not exit (the kernel would panic again).
  std::fprintf(stderr, "crashkit-capture: could not %s; halting here\n",
               std::string(crashkit::conf::action_name(out.action_taken)).c_str());
  for (;;)
    ::pause();
}

} // namespace

int main(int argc, char** argv) {
  if (::getpid() == 1 || (argc == 2 && std::strcmp(argv[1], "--init") == 0))
    return run_as_init();
  auto logger = spdlog::stderr_color_st("crashkit-capture");
  logger->set_pattern("%n: %l: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  auto opts = crashkit::cli::parse_capture_options(argc, argv);
  if (opts && !opts->help.empty()) {
    std::fputs(opts->help.c_str(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  if (!opts) {
    std::fprintf(stderr, "crashkit-capture: %s\n", opts.error().message().c_str());
    return crashkit::exit_code_for(opts.error().category());
  }
  return crashkit::cli::run_capture_command(*opts);
}
