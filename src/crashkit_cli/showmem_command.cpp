#include "showmem_command.hpp"

#include <cstdio>

#include "crashkit/loader/system_state.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_showmem_command(CLI::App& app, ShowmemArgs&) {
  return app.add_subcommand("showmem", "show the reserved crash memory (low and high ranges)");
}

int run_showmem(const ShowmemArgs&, loader::KexecSys& sys) {
  auto state = loader::probe_system(sys);
  if (!state) return report_error(state.error());
  std::fputs(loader::describe_reservation(*state).c_str(), stdout);
  return 0;
}

}  // namespace crashkit::cli
