#pragma once
/// x86_64 kernel-virtual → physical translation through the crashed kernel's own page tables
/// (4-level and 5-level), with KASLR and phys_base taken from VMCOREINFO and the SME mask
/// stripped from entries.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>

#include "crashkit/capture/kernel_memory.hpp"
#include "crashkit/capture/vmcore_file.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"

namespace crashkit::capture {

class X86_64Memory final : public KernelMemory {
public:
  /// Needs SYMBOL(init_top_pgt) (or init_level4_pgt); phys_base from NUMBER(phys_base) or the
  /// kernel-text PT_LOAD. Errors name the missing key.
  static Result<std::unique_ptr<X86_64Memory>> create(const VmcoreFile& core,
                                                      const Vmcoreinfo& info);

  Status read_phys(std::uint64_t paddr, void* buf, std::size_t len) override;
  Result<std::uint64_t> vtop(std::uint64_t vaddr) override;

  std::uint64_t phys_base() const { return phys_base_; }
  int levels() const { return levels_; }

private:
  X86_64Memory(const VmcoreFile& core) : core_(core) {}
  Result<std::uint64_t> walk(std::uint64_t vaddr);

  const VmcoreFile& core_;
  std::uint64_t phys_base_ = 0;
  std::uint64_t pgd_phys_ = 0;
  std::uint64_t sme_mask_ = 0;
  int levels_ = 4;
  // A tiny translation cache: 2 MiB-granular vmemmap walks repeat the same lookups.
  struct TlbEntry {
    std::uint64_t vbase = ~0ULL;
    std::uint64_t pbase = 0;
    std::uint64_t size = 0;
  };
  std::array<TlbEntry, 16> tlb_{};
  unsigned tlb_next_ = 0;
  std::mutex mu_;
};

} // namespace crashkit::capture
