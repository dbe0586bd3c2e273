#include "list_command.hpp"

#include <cstdio>

#include "config_commands.hpp"
#include "crashkit/admin/dump_list.hpp"
#include "crashkit/admin/dump_location.hpp"
#include "crashkit/base/json_text.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "exit_codes.hpp"

namespace crashkit::cli {

CLI::App* add_list_command(CLI::App& app, ListArgs& a) {
  auto* sub = app.add_subcommand("list", "the saved dumps: date, kernel, panic, size, status");
  sub->add_flag("--json", a.json,
                "one JSON array (dir, date, kernel, panic, size, status, "
                "dump_level)");
  sub->add_option("--root", a.root, "the configuration and dumps of an image or chroot at DIR");
  return sub;
}

int run_list(const ListArgs& a) {
  auto config = load_config_or_report(a.root, "no dumps listed");
  if (!config)
    return kExitBadConfig;
  auto dir = admin::dump_directory(*config, a.root);
  if (!dir)
    return report_error(dir.error());
  auto dumps = admin::list_dumps(*dir);
  if (!dumps)
    return report_error(dumps.error());
  if (a.json) {
    auto arr = nlohmann::json::array();
    for (const auto& d : *dumps)
      arr.push_back(admin::to_json(d));
    std::printf("%s\n", json_text(arr, 2).c_str());
    return 0;
  }
  if (dumps->empty()) {
    std::printf("no dumps in %s\n", dir->c_str());
    return 0;
  }
  std::printf("%-17s  %-10s  %10s  %-24s  %s\n", "DATE", "STATUS", "SIZE", "KERNEL", "PANIC");
  for (const auto& d : *dumps)
    std::printf("%-17s  %-10s  %10llu  %-24s  %s\n", d.name.c_str(),
                std::string(capture_init::status_name(d.status)).c_str(),
                static_cast<unsigned long long>(d.vmcore_bytes),
                d.kernel.empty() ? "?" : d.kernel.c_str(),
                d.panic.empty() ? (d.problem.empty() ? "?" : d.problem.c_str()) : d.panic.c_str());
  return 0;
}

} // namespace crashkit::cli
