#include "config_commands.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "crashkit/base/io.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "crashkit/conf/import.hpp"
#include "crashkit/initramfs/target_device.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {
namespace {

constexpr const char* kKdumpConf = "/etc/kdump.conf";
constexpr const char* kKdumpTools = "/etc/default/kdump-tools";

/// The whole file; nullopt when it does not exist. Errors: other open/read failures.
Result<std::optional<std::string>> read_text(const std::string& path) {
  auto text = read_whole_file(path);
  if (text)
    return std::optional<std::string>{std::move(*text)};
  if (text.error().sys_errno() == ENOENT)
    return std::optional<std::string>{};
  return std::move(text).error();
}

/// An interrupted import never leaves half a config, nor replaces one without --force.
Status write_config(const std::string& path, const std::string& text, bool force) {
  struct stat st {};
  if (!force && ::stat(path.c_str(), &st) == 0)
    return Error(ErrorCategory::exists, "exists; give --force to replace it").with_path(path);
  return write_file_atomic(path, text, 0644);
}

} // namespace

CLI::App* add_check_config_command(CLI::App& app, CheckConfigArgs& a) {
  auto* sub = app.add_subcommand(
      "check-config",
      "validate /etc/crashkit/crashkit.conf and crashkit.conf.d/*.conf: every problem as "
      "FILE:LINE, exit 1 if any");
  sub->add_option("--root", a.root, "check the configuration of an image or chroot at DIR");
  return sub;
}

CLI::App* add_import_command(CLI::App& app, ImportArgs& a) {
  auto* sub = app.add_subcommand(
      "import",
      "write a crashkit.conf from /etc/kdump.conf + /etc/sysconfig/kdump (kdump-utils) or "
      "/etc/default/kdump-tools, listing what could not be carried over");
  sub->add_option("--from", a.from, "kdump.conf|kdump-tools (default: whichever file exists)")
      ->check(CLI::IsMember({"kdump.conf", "kdump-tools"}));
  sub->add_option("FILE", a.file,
                  "the file to convert (default /etc/kdump.conf or " + std::string(kKdumpTools) +
                      ")");
  sub->add_option("--sysconfig", a.sysconfig,
                  "kdump-utils' KDUMP_COMMANDLINE_* file (missing is fine)");
  sub->add_option("-o,--output", a.output, "write here instead of stdout");
  sub->add_flag("-f,--force", a.force, "replace an existing --output file");
  return sub;
}

std::optional<conf::Config> load_config_or_report(const std::string& root,
                                                  const char* consequence) {
  auto parse = conf::load_config(root);
  if (parse.ok())
    return std::move(parse.config);
  std::fputs(parse.error_text().c_str(), stderr);
  std::fprintf(stderr, "crashkit: %zu problem%s in the configuration; %s\n", parse.errors.size(),
               parse.errors.size() == 1 ? "" : "s", consequence);
  return std::nullopt;
}

int run_check_config(const CheckConfigArgs& a) {
  auto config = load_config_or_report(a.root, "nothing was changed");
  if (!config)
    return kExitBadConfig;
  // The devices are this machine's (or the --sysroot tree's): a --root tree alone may be
  // another machine's configuration, whose devices are not here.
  if (a.root.empty() || !a.sysroot.empty()) {
    initramfs::SystemView sys;
    if (!a.sysroot.empty()) {
      sys.sysfs = a.sysroot + "/sys";
      sys.proc = a.sysroot + "/proc";
      sys.dev = a.sysroot + "/dev";
    }
    // Refused: a chain the capture image cannot bring up. A device that is not here (yet) is
    // only a warning: the form of the configuration is what check-config judges.
    auto reach = initramfs::check_capture_reach(*config, a.root, sys);
    if (!reach && reach.error().category() == ErrorCategory::unsupported) {
      report_error(reach.error());
      return kExitBadConfig;
    }
    const std::vector<std::string> warnings =
        reach ? std::move(*reach) : std::vector<std::string>{reach.error().message()};
    for (const auto& w : warnings)
      std::fprintf(stderr, "crashkit: warning: %s\n", w.c_str());
  }
  std::printf("configuration ok\n");
  return 0;
}

int run_import(const ImportArgs& a) {
  std::string from = a.from;
  std::string file = a.file.value_or("");
  if (from.empty()) {
    if (!file.empty())
      from = file.find("kdump-tools") != std::string::npos ? "kdump-tools" : "kdump.conf";
    else if (::access(kKdumpConf, F_OK) == 0)
      from = "kdump.conf";
    else if (::access(kKdumpTools, F_OK) == 0)
      from = "kdump-tools";
    else
      return report_error(Error(ErrorCategory::no_input, std::string("import: neither ") +
                                                             kKdumpConf + " nor " + kKdumpTools +
                                                             " exists; name the file to convert"));
  }
  if (file.empty())
    file = from == "kdump.conf" ? kKdumpConf : kKdumpTools;

  auto main_text = read_text(file);
  if (!main_text)
    return report_error(main_text.error());
  if (!*main_text)
    return report_error(Error(ErrorCategory::no_input, "import: no such file").with_path(file));
  conf::ImportResult r;
  std::vector<std::string> sources{file};
  if (from == "kdump.conf") {
    auto sys_text = read_text(a.sysconfig);
    if (!sys_text)
      return report_error(sys_text.error());
    if (*sys_text)
      sources.push_back(a.sysconfig);
    r = conf::import_kdump_utils(**main_text, sys_text->value_or(""), file, a.sysconfig);
  } else {
    r = conf::import_kdump_tools(**main_text, file);
  }
  const std::string text = conf::render_import(r, sources);
  if (a.output) {
    if (auto st = write_config(*a.output, text, a.force); !st)
      return report_error(st.error());
  } else {
    std::fputs(text.c_str(), stdout);
  }
  for (const auto& i : r.changed)
    std::fprintf(stderr, "changed: %s\n", i.str().c_str());
  for (const auto& i : r.unmapped)
    std::fprintf(stderr, "not imported: %s\n", i.str().c_str());
  if (a.output)
    std::fprintf(stderr, "wrote %s; check it with crashkit check-config\n", a.output->c_str());
  return 0;
}

} // namespace crashkit::cli
