#include "status_command.hpp"

#include <cstdio>

#include "crashkit/admin/self_test.hpp"
#include "crashkit/loader/system_state.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_status_command(CLI::App& app, StatusArgs&) {
  return app.add_subcommand("status",
                            "what is loaded and reserved; exit 0 when a panic kernel is armed, "
                            "3 when not");
}

void print_test_status(const std::string& root, loader::KexecSys& sys,
                       const conf::Config* start_config) {
  if (auto line = admin::test_status_line(sys, root, start_config))
    std::printf("%s\n", line->c_str());
}

int run_status(const StatusArgs& a, loader::KexecSys& sys) {
  auto state = loader::probe_system(sys);
  if (!state)
    return report_error(state.error());
  std::fputs(loader::describe_status(*state).c_str(), stdout);
  print_test_status(a.root, sys, nullptr);
  return loader::status_exit_code(*state);
}

} // namespace crashkit::cli
