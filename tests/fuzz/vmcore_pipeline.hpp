#pragma once
// What the capture does with a vmcore before and around writing it, minus the writing: open it
// (ELF headers, notes, VMCOREINFO, x86_64 translation), estimate the dump (the page filter over
// every PFN) and extract dmesg. Shared by the vmcore_elf and vmcoreinfo_values targets.

#include <algorithm>
#include <cstdint>
#include <string>

#include "crashkit/capture/dmesg.hpp"
#include "crashkit/capture/open_dump.hpp"
#include "crashkit/capture_init/capture_init.hpp"

namespace crashkit::fuzz {

/// The page filter's work is linear in the memory the program headers claim: one 2^23-PFN
/// cycle after another, bitmaps built and copied per cycle, as for a real machine of that size.
/// A 20 KB input claiming 170 TiB (p_memsz 0xa90000001000) takes ~30 s under ASan that way
/// without being wrong. Past 1 TiB of claimed physical address space the estimate is left out;
/// opening the core and dmesg still run on every input.
inline constexpr std::uint64_t kMaxClaimedBytes = std::uint64_t{1} << 40;

inline std::uint64_t claimed_end(const capture::VmcoreFile& core) {
  std::uint64_t end = 0;
  for (const auto& s : core.loads())
    end = std::max(end, s.paddr + std::min(s.memsz, ~s.paddr));
  return end;
}

inline void run_vmcore_pipeline(const std::string& path, int dump_level) {
  auto dump = capture::open_dump(path);
  if (!dump)
    return;
  (void)dump->info.osrelease();
  (void)dump->info.kernel_version();
  if (claimed_end(*dump->core) <= kMaxClaimedBytes)
    (void)capture_init::estimate_dump_bytes(*dump, dump_level);
  if (dump->mem) {
    capture::DmesgStats stats;
    (void)capture::extract_dmesg(*dump->mem, dump->info, stats);
  }
}

} // namespace crashkit::fuzz
