#pragma once
/// Converting another tool's configuration into a crashkit Config, as pure functions over file
/// contents: Fedora/RHEL kdump-utils (/etc/kdump.conf + /etc/sysconfig/kdump) and Debian/Ubuntu
/// kdump-tools (/etc/default/kdump-tools). Nothing is read from or written to the system.

#include <string>
#include <string_view>
#include <vector>

#include "crashkit/conf/config.hpp"
#include "crashkit/conf/config_parser.hpp"

namespace crashkit::conf {

/// One setting of the old configuration crashkit did not take over, or took over changed.
struct ImportItem {
  Origin origin;
  std::string text;   ///< the directive or VARIABLE=value as written
  std::string reason; ///< why it was not mapped, or what was changed
  /// "FILE:LINE: TEXT: REASON"
  std::string str() const;
};

struct ImportResult {
  Config config;                    ///< always valid for parse_config_text(render_config())
  std::vector<ImportItem> unmapped; ///< dropped: unsupported, deprecated, invalid, shell code
  std::vector<ImportItem> changed; ///< mapped, but not literally (makedumpfile → crashkit-capture)
};

/// kdump-utils: kdump.conf directives are read with the crashkit parser in import mode; from
/// /etc/sysconfig/kdump, KDUMP_COMMANDLINE_APPEND → append, KDUMP_COMMANDLINE_REMOVE → remove,
/// KDUMP_KERNELVER → capture_kernel /boot/vmlinuz-VER, KEXEC_ARGS "-s" is implied; everything
/// else that is set is listed as unmapped. Shell syntax beyond VAR=value / VAR="value" (command
/// substitution, variable references) is never evaluated: such lines are unmapped.
ImportResult import_kdump_utils(std::string_view kdump_conf, std::string_view sysconfig,
                                const std::string& kdump_conf_name = "/etc/kdump.conf",
                                const std::string& sysconfig_name = "/etc/sysconfig/kdump");

/// kdump-tools: KDUMP_COREDIR → path, MAKEDUMP_ARGS → core_collector (as crashkit-capture
/// options), KDUMP_CMDLINE_APPEND → append (without systemd.unit=kdump-tools-dump.service, which
/// would boot Debian's dump service instead of crashkit's), KDUMP_KERNEL → capture_kernel
/// (running for the packaged /var/lib/kdump/vmlinuz link), KDUMP_NUM_DUMPS → keep_dumps,
/// KDUMP_FAIL_CMD reboot/halt/poweroff → failure_action. USE_KDUMP=0, network targets,
/// KDUMP_CMDLINE, KDUMP_COMPRESSION, ... are listed as unmapped.
ImportResult import_kdump_tools(std::string_view defaults,
                                const std::string& name = "/etc/default/kdump-tools");

/// crashkit.conf text for an import: a header naming the sources, the unmapped and changed
/// items as comments, then render_config().
std::string render_import(const ImportResult& r, const std::vector<std::string>& sources);

} // namespace crashkit::conf
