#include "exec_command.hpp"

#include <cstdio>

#include "crashkit/loader/kexec_loader.hpp"
#include "crashkit/loader/system_state.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_exec_command(CLI::App& app, ExecArgs&) {
  return app.add_subcommand("exec",
                            "sync and reboot now into the kernel loaded with load --reboot");
}

int run_exec(const ExecArgs&, loader::KexecSys& sys) {
  auto st = loader::exec_reboot_kernel(sys);
  if (st)
    return 0; // only a fake returns here
  if (st.error().category() == ErrorCategory::unsupported) {
    std::fprintf(stderr, "crashkit: %s\n", st.error().message().c_str());
    return loader::kStatusNotArmed;
  }
  return report_error(st.error());
}

} // namespace crashkit::cli
