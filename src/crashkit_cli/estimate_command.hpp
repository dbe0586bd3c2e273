#pragma once
// `crashkit estimate`: crash memory the capture environment needs, part by part, against the
// reservation.

#include <CLI/CLI.hpp>

#include <string>

#include "crashkit/admin/estimate.hpp"
#include "crashkit/conf/config.hpp"
#include "crashkit/loader/kexec_sys.hpp"

namespace crashkit::cli {

struct EstimateArgs {
  std::string root;
  std::string kernel;    ///< default: the capture kernel of the config (running kernel)
  std::string initramfs; ///< default: /var/lib/crashkit/initramfs-RELEASE.img
};

/// The estimate for `config` under root: its capture kernel (running → /boot/vmlinuz-RELEASE)
/// and the capture initramfs `crashkit rebuild` writes, unless kernel/initramfs name others.
/// A missing initramfs says to run `crashkit rebuild` first.
Result<admin::Estimate> estimate_for(const conf::Config& config, const std::string& root,
                                     std::string kernel, std::string initramfs,
                                     std::uint64_t reserved);

CLI::App* add_estimate_command(CLI::App& app, EstimateArgs& args);
int run_estimate(const EstimateArgs& args, loader::KexecSys& sys);

} // namespace crashkit::cli
