#pragma once
// `crashkit estimate`: crash memory the capture environment needs, part by part, against the
// reservation.

#include <CLI/CLI.hpp>

#include <string>

#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct EstimateArgs {
  std::string root;
  std::string kernel;     ///< default: the capture kernel of the config (running kernel)
  std::string initramfs;  ///< default: /var/lib/crashkit/initramfs-RELEASE.img
};

CLI::App* add_estimate_command(CLI::App& app, EstimateArgs& args);
int run_estimate(const EstimateArgs& args, loader::KexecSys& sys);

}  // namespace crashkit::cli
