#pragma once
// `crashkit list [--json]`: the saved dumps (date, kernel, panic string, size, complete or not).

#include <CLI/CLI.hpp>

#include <string>

namespace crashkit::cli {

struct ListArgs {
  bool json = false;
  std::string root; ///< an image or test tree: its config, and paths below it
};

CLI::App* add_list_command(CLI::App& app, ListArgs& args);

/// 0 (also when there are no dumps); 1 for a bad configuration; the error's code otherwise.
int run_list(const ListArgs& args);

} // namespace crashkit::cli
