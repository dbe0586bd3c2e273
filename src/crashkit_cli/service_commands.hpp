#pragma once
// The kdumpctl-style service verbs: start, stop, restart, reload, test. Each holds the admin
// lock (/run/crashkit.lock) so two of them never interleave an unload and a load.

#include <CLI/CLI.hpp>

#include <string>

#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct ServiceArgs {
  enum class Verb { start, stop, restart, reload, test } verb = Verb::start;
  std::string root; ///< configuration, images and state below DIR (images, tests)
  std::string syscall = "auto";
  bool force = false; ///< test: no confirmation
};

/// Adds start/stop/restart/reload/test; each sets args.verb when parsed.
void add_service_commands(CLI::App& app, ServiceArgs& args);

int run_service(const ServiceArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
