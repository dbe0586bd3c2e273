#pragma once
// What the capture does with a vmcore before and around writing it, minus the writing: open it
// (ELF headers, notes, VMCOREINFO, x86_64 translation), estimate the dump (the page filter over
// every PFN) and extract dmesg. Shared by the vmcore_elf and vmcoreinfo_values targets.

#include <string>

#include "crashkit/capture/dmesg.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture_init/capture_init.hpp"

namespace crashkit::fuzz {

inline void run_vmcore_pipeline(const std::string& path, int dump_level) {
  auto dump = capture::open_dump(path);
  if (!dump)
    return;
  (void)dump->info.osrelease();
  (void)dump->info.kernel_version();
  (void)capture_init::estimate_dump_bytes(*dump, dump_level);
  if (dump->mem) {
    capture::DmesgStats stats;
    (void)capture::extract_dmesg(*dump->mem, dump->info, stats);
  }
}

} // namespace crashkit::fuzz
