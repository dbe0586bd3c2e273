// crashkit-capture: thin front end over crashkit::capture.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

#include "capture_cli/capture_commands.hpp"
#include "capture_cli/capture_options.hpp"

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_st("crashkit-capture");
  logger->set_pattern("%n: %l: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  auto opts = crashkit::cli::parse_capture_options(argc, argv);
  if (!opts) {
    if (opts.error().path() == "help") {
      std::fputs(opts.error().what().c_str(), stdout);
      std::fputc('\n', stdout);
      return 0;
    }
    std::fprintf(stderr, "crashkit-capture: %s\n", opts.error().message().c_str());
    return crashkit::exit_code_for(opts.error().category());
  }
  return crashkit::cli::run_capture_command(*opts);
}
