#include "crashkit/loader/cmdline.hpp"

#include <algorithm>

namespace crashkit::loader {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::vector<std::string> names_of(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  for (const auto& t : tokens)
    out.push_back(param_name(t));
  return out;
}

// Position of the bare "--" that starts init's arguments, or tokens.size().
std::size_t init_args_start(const std::vector<std::string>& tokens) {
  auto it = std::find(tokens.begin(), tokens.end(), "--");
  return static_cast<std::size_t>(it - tokens.begin());
}

} // namespace

std::vector<std::string> tokenize_cmdline(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i]))
      ++i;
    if (i >= s.size())
      break;
    std::string tok;
    bool in_quote = false;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"')
        in_quote = !in_quote;
      else if (!in_quote && is_space(c))
        break;
      tok.push_back(c);
    }
    out.push_back(std::move(tok));
  }
  return out;
}

std::string join_cmdline(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty())
      out.push_back(' ');
    out += t;
  }
  return out;
}

std::string param_name(std::string_view token) {
  if (token == "--")
    return {};
  std::string out;
  for (char c : token) {
    if (c == '"')
      continue;
    if (c == '=')
      break;
    out.push_back(c == '-' ? '_' : c);
  }
  return out;
}

CmdlineFilter default_panic_filter() {
  CmdlineFilter f;
  // The capture kernel must not reserve crash memory or huge pages out of its small region,
  // and a quiet/splash boot hides the only log of a failed capture.
  f.remove = {"crashkernel", "hugepages",
              "hugepagesz",  "default_hugepagesz",
              "hugetlb_cma", "cma",
              "quiet",       "splash",
              "rhgb",        "panic_on_warn",
              "slub_debug",  "log_buf_len",
              "swiotlb",     "kfence.sample_interval",
              "BOOT_IMAGE"}; // grub names the first kernel's file: wrong for the capture kernel
#if defined(__x86_64__)
  f.append = {"irqpoll",
              "nr_cpus=1",
              "reset_devices",
              "cgroup_disable=memory",
              "mce=off",
              "numa=off",
              "udev.children-max=2",
              "panic=10",
              "acpi_no_memhotplug",
              "transparent_hugepage=never",
              "nokaslr",
              "hest_disable",
              "cma=0",
              "hugetlb_cma=0",
              "pcie_ports=compat",
              "novmcoredd",
              "kfence.sample_interval=0"};
#elif defined(__aarch64__)
  f.append = {"irqpoll",
              "nr_cpus=1",
              "reset_devices",
              "cgroup_disable=memory",
              "udev.children-max=2",
              "panic=10",
              "swiotlb=noforce",
              "cma=0",
              "hugetlb_cma=0",
              "novmcoredd",
              "kfence.sample_interval=0"};
#else
  f.append = {"irqpoll", "maxcpus=1", "reset_devices", "cma=0", "hugetlb_cma=0"};
#endif
  return f;
}

std::string filter_cmdline(std::string_view cmdline, const CmdlineFilter& filter) {
  auto tokens = tokenize_cmdline(cmdline);
  const std::size_t split = init_args_start(tokens);
  std::vector<std::string> params(tokens.begin(), tokens.begin() + static_cast<long>(split));
  std::vector<std::string> init(tokens.begin() + static_cast<long>(split), tokens.end());

  std::vector<std::string> drop = names_of(filter.append);
  for (const auto& r : filter.remove)
    drop.push_back(param_name(r));

  std::vector<std::string> kept;
  for (auto& t : params)
    if (std::find(drop.begin(), drop.end(), param_name(t)) == drop.end())
      kept.push_back(std::move(t));
  // Within the append list the last of a name wins.
  for (std::size_t i = 0; i < filter.append.size(); ++i) {
    const auto name = param_name(filter.append[i]);
    bool later = false;
    for (std::size_t j = i + 1; j < filter.append.size(); ++j)
      if (param_name(filter.append[j]) == name)
        later = true;
    if (!later)
      kept.push_back(filter.append[i]);
  }
  kept.insert(kept.end(), init.begin(), init.end());
  return join_cmdline(kept);
}

std::string append_cmdline(std::string_view cmdline, std::string_view extra) {
  auto tokens = tokenize_cmdline(cmdline);
  const std::size_t split = init_args_start(tokens);
  std::vector<std::string> out(tokens.begin(), tokens.begin() + static_cast<long>(split));
  auto add = tokenize_cmdline(extra);
  const std::size_t add_split = init_args_start(add);
  for (std::size_t i = 0; i < add_split; ++i)
    if (std::find(out.begin(), out.end(), add[i]) == out.end())
      out.push_back(add[i]);
  out.insert(out.end(), tokens.begin() + static_cast<long>(split), tokens.end());
  // The user's own init arguments: after ours, with a separator if there was none.
  if (add_split < add.size()) {
    if (split == tokens.size())
      out.push_back("--");
    out.insert(out.end(), add.begin() + static_cast<long>(add_split) + 1, add.end());
  }
  return join_cmdline(out);
}

} // namespace crashkit::loader
