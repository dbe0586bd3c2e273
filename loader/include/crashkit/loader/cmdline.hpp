#pragma once
/// Kernel command lines for the capture kernel: tokenising /proc/cmdline the way the kernel
/// splits it, removing what must not reach a capture kernel and appending capture defaults.

#include <string>
#include <string_view>
#include <vector>

namespace crashkit::loader {

/// Splits at unquoted whitespace. Double quotes group (`foo="a b"`, `"foo=a b"`) and are kept in
/// the token so joining gives the original text back; an unterminated quote runs to the end, as
/// in the kernel's next_arg().
std::vector<std::string> tokenize_cmdline(std::string_view cmdline);

/// Tokens joined with single spaces.
std::string join_cmdline(const std::vector<std::string>& tokens);

/// The parameter name of a token: quotes removed, text before the first '=', '-' folded to '_'
/// (the kernel treats them as equal in names). "" for the bare "--" separator.
std::string param_name(std::string_view token);

/// What to remove from and append to an inherited command line.
struct CmdlineFilter {
  /// Parameter names to drop (every occurrence, with or without a value).
  std::vector<std::string> remove;
  /// Parameters to add; each replaces any existing parameter of the same name.
  std::vector<std::string> append;
};

/// Defaults for the panic slot on this architecture: drop crashkernel=, hugepages, quiet, ...;
/// add irqpoll nr_cpus=1 reset_devices ... (after kdump-utils' and Debian's choices).
CmdlineFilter default_panic_filter();

/// Applies filter to cmdline. Only kernel parameters are touched: tokens after a bare "--" are
/// init's arguments and stay as they are, and appended parameters go before the "--".
std::string filter_cmdline(std::string_view cmdline, const CmdlineFilter& filter);

/// Appends extra (the user's --append) verbatim, skipping tokens already present exactly, before
/// any "--". Same-named parameters are not replaced: console= and friends may repeat.
std::string append_cmdline(std::string_view cmdline, std::string_view extra);

} // namespace crashkit::loader
