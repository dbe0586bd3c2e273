#include "crashkit/capture/open_dump.hpp"

#include "crashkit/capture/arch.hpp"

namespace crashkit::capture {

Result<OpenDump> open_dump(const std::string& path) {
  OpenDump d;
  d.core = CK_TRY(VmcoreFile::open(path));
  d.info = Vmcoreinfo::parse(d.core->vmcoreinfo_text());
  if (d.info.empty()) {
    d.mem_error = Error(ErrorCategory::data, "no VMCOREINFO note");
    return d;
  }
  const ArchInfo* arch = arch_for_machine(d.core->identity().machine);
  if (!arch) {
    d.mem_error = Error(ErrorCategory::unsupported, "no kernel-virtual translation for e_machine " +
                                                        std::to_string(d.core->identity().machine));
    return d;
  }
  auto mem = arch->create_memory(*d.core, d.info);
  if (mem)
    d.mem = std::move(mem).value();
  else
    d.mem_error = std::move(mem).error();
  return d;
}

} // namespace crashkit::capture
