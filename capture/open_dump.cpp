#include "crashkit/capture/open_dump.hpp"

#include "crashkit/capture/x86_64_memory.hpp"

namespace crashkit::capture {

Result<OpenDump> open_dump(const std::string& path) {
  OpenDump d;
  d.core = CK_TRY(VmcoreFile::open(path));
  d.info = Vmcoreinfo::parse(d.core->vmcoreinfo_text());
  if (d.info.empty()) {
    d.mem_error = Error(ErrorCategory::data, "no VMCOREINFO note");
    return d;
  }
  auto mem = X86_64Memory::create(*d.core, d.info);
  if (mem)
    d.mem = std::move(mem).value();
  else
    d.mem_error = std::move(mem).error();
  return d;
}

} // namespace crashkit::capture
