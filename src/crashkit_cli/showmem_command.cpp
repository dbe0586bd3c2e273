#include "showmem_command.hpp"

#include <cstdio>

#include "crashkit/conf/config_parser.hpp"
#include "crashkit/loader/system_state.hpp"
#include "estimate_command.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_showmem_command(CLI::App& app, ShowmemArgs&) {
  return app.add_subcommand(
      "showmem", "show the reserved crash memory (low and high ranges) and the estimate");
}

int run_showmem(const ShowmemArgs& a, loader::KexecSys& sys) {
  auto state = loader::probe_system(sys);
  if (!state)
    return report_error(state.error());
  std::fputs(loader::describe_reservation(*state).c_str(), stdout);
  // The ranges are the answer; the estimate is a remark beside them, so a missing initramfs or
  // a bad config is said in one line rather than failing the command.
  auto parse = conf::load_config(a.root);
  if (!parse.ok()) {
    std::printf("estimate: not available, the configuration has errors (crashkit check-config)\n");
    return 0;
  }
  const std::uint64_t reserved = state->crash_bytes().value_or(0);
  auto e = estimate_for(parse.config, a.root, "", "", reserved);
  if (!e) {
    std::printf("estimate: not available: %s\n", e.error().message().c_str());
    return 0;
  }
  std::printf("estimate: %s needed by the capture (crashkit estimate shows the parts); %s",
              loader::human_size(e->total()).c_str(),
              admin::estimate_verdict(e->total(), reserved).c_str());
  return 0;
}

} // namespace crashkit::cli
