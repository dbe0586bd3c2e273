#include "status_command.hpp"

#include <cstdio>

#include "crashkit/admin/dump_list.hpp"
#include "crashkit/admin/dump_location.hpp"
#include "crashkit/admin/self_test.hpp"
#include "crashkit/conf/config_parser.hpp"
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
  const bool only_to_judge = start_config != nullptr;
  auto pending = admin::read_pending_test(sys, root);
  if (!pending) {
    std::printf("last test: %s\n", pending.error().message().c_str());
    return;
  }
  if (only_to_judge && !(pending->pending && pending->from_earlier_boot))
    return;
  if (pending->pending && !pending->from_earlier_boot) {
    std::printf("last test: started %s, the machine has not crashed yet\n",
                pending->pending->started.c_str());
    return;
  }
  if (pending->pending) {
    std::optional<conf::ConfigParse> parse;
    if (!start_config) {
      parse = conf::load_config(root);
      if (!parse->ok()) {
        std::printf("last test: cannot judge it, the configuration has errors\n");
        return;
      }
    }
    auto dir = admin::dump_directory(start_config ? *start_config : parse->config, root);
    if (!dir) {
      std::printf("last test: cannot judge it yet: %s\n", dir.error().message().c_str());
      return;
    }
    auto dumps = admin::list_dumps(*dir);
    if (!dumps) {
      std::printf("last test: %s\n", dumps.error().message().c_str());
      return;
    }
    auto outcome = admin::settle_test(root, *pending->pending, *dumps);
    if (!outcome) {
      std::printf("last test: %s\n", outcome.error().message().c_str());
      return;
    }
    std::printf("last %s\n", outcome->detail.c_str());
    return;
  }
  if (auto detail = admin::last_test_detail(root))
    std::printf("last %s\n", detail->c_str());
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
