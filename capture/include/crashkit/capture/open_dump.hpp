#pragma once
/// A vmcore opened once for everything a capture reads from it: the file, its VMCOREINFO and,
/// when those allow it, kernel-virtual translation.

#include <memory>
#include <optional>
#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/vmcore_file.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

struct OpenDump {
  std::unique_ptr<VmcoreFile> core;
  Vmcoreinfo info;                   ///< empty when the core has no VMCOREINFO note
  std::unique_ptr<KernelMemory> mem; ///< the arch's translation; null when it could not be set up
  std::optional<Error> mem_error;    ///< why mem is null (no path: callers add their own)
};

/// Opens the core, parses its VMCOREINFO and sets up the translation of its architecture
/// (ArchInfo::create_memory; none for an architecture arch.hpp does not know). Errors: only from
/// opening the core; a missing note or failed translation leaves mem null and says why in
/// mem_error. Not thread-safe while being opened; mem and core are then shared as documented
/// on their types.
Result<OpenDump> open_dump(const std::string& path);

} // namespace crashkit::capture
