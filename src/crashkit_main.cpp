// crashkit: the administrator's command. Parses the command line (crashkit_cli/options.cpp), runs
// one subcommand, and prints; the work is done by the admin, loader, conf, bootcfg and
// initramfs libraries.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "crashkit_cli/exit_codes.hpp"
#include "crashkit_cli/options.hpp"

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_st("crashkit");
  logger->set_pattern("%n: %l: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  auto inv = crashkit::cli::parse_options(argc, argv);
  if (inv && !inv->help.empty()) {
    std::fputs(inv->help.c_str(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  if (!inv) {
    std::fprintf(stderr, "crashkit: %s\n", inv.error().message().c_str());
    return crashkit::exit_code_for(inv.error().category());
  }
  if (inv->verbose)
    spdlog::set_level(spdlog::level::debug);
  crashkit::loader::RealKexecSys sys(inv->sysroot);
  return crashkit::cli::run(*inv, sys);
}
