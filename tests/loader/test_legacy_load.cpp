#include <catch2/catch.hpp>
#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "bzimage_sample.hpp"
#include "crashkit/loader/boot_params.hpp"
#include "crashkit/loader/kexec_loader.hpp"
#include "crashkit/loader/legacy_loader.hpp"
#include "crashkit/loader/purgatory.hpp"
#include "crashkit/testing/fake_kexec_sys.hpp"
#include "purgatory_abi.h"
#include "samples.hpp"
#include "sha256.h"

using namespace crashkit::loader;
using Catch::Contains;

namespace {

constexpr std::uint64_t kTextVaddr = 0xffffffff9a000000ull;
constexpr std::uint64_t kPageOffset = 0xffff9c8000000000ull;
constexpr std::uint64_t kHighStart = 0x42f000000ull, kHighEnd = 0x43effffffull;

/// /proc/kcore's first bytes: ELF header, a vmalloc PT_LOAD (no physical address), the kernel
/// text, and one direct-map RAM range.
std::string kcore_head() {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 3;
  Elf64_Phdr ph[3]{};
  ph[0] = {PT_LOAD, PF_R, 0, 0xffffb00000000000ull, ~0ull, 1ull << 40, 1ull << 40, 4096};
  ph[1] = {PT_LOAD, PF_R | PF_X, 0, kTextVaddr, 0x5d000000, 0x2600000, 0x2600000, 4096};
  ph[2] = {PT_LOAD, PF_R, 0, kPageOffset + 0x100000, 0x100000, 0xbfeda000, 0xbfeda000, 4096};
  std::string s(reinterpret_cast<const char*>(&eh), sizeof eh);
  s.append(reinterpret_cast<const char*>(ph), sizeof ph);
  s.resize(65536, '\0');
  return s;
}

struct Machine {
  FakeKexecSys sys;
  std::filesystem::path dir;
  std::string kernel, initrd;
  std::vector<std::byte> kernel_bytes, initrd_bytes;

  Machine() {
    dir = std::filesystem::temp_directory_path() /
          ("crashkit-legacy-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::create_directories(dir);
    kernel = (dir / "vmlinuz").string();
    initrd = (dir / "initrd.img").string();
    kernel_bytes = samples::synthetic_bzimage();
    initrd_bytes.resize(300 * 1024 + 123);
    for (std::size_t i = 0; i < initrd_bytes.size(); ++i)
      initrd_bytes[i] = static_cast<std::byte>(i * 13);
    samples::write_file(kernel, kernel_bytes);
    samples::write_file(initrd, initrd_bytes);

    sys.set_kexec_state(false, false, 512ull << 20);
    sys.files["/proc/iomem"] = samples::kIomemLowHigh;
    sys.files["/sys/devices/system/cpu/possible"] = "0-2\n";
    sys.files["/sys/devices/system/cpu/cpu0/crash_notes"] = "43fc1e000\n";
    sys.files["/sys/devices/system/cpu/cpu0/crash_notes_size"] = "352\n";
    sys.files["/sys/devices/system/cpu/cpu1/crash_notes"] = "43fc3e000\n";
    sys.files["/sys/devices/system/cpu/cpu1/crash_notes_size"] = "352\n";
    // cpu2 is possible but was never brought up: no crash_notes file.
    sys.files["/sys/kernel/vmcoreinfo"] = "5e5a1000 1024\n";
    sys.files["/proc/kcore"] = kcore_head();
    std::string bp(4096, '\0');
    const std::uint64_t rsdp = 0xf5a40;
    std::memcpy(bp.data() + kBpAcpiRsdpAddr, &rsdp, sizeof rsdp);
    sys.files["/sys/kernel/boot_params/data"] = bp;
  }
  ~Machine() { std::filesystem::remove_all(dir); }

  LoadRequest request(SyscallChoice sc = SyscallChoice::legacy) const {
    LoadRequest r;
    r.slot = Slot::panic;
    r.kernel = kernel;
    r.initrd = initrd;
    r.cmdline = "console=ttyS0 irqpoll nr_cpus=1 reset_devices";
    r.syscall = sc;
    return r;
  }

  static int& counter() {
    static int n = 0;
    return n;
  }
};

template <typename T> T at(const std::string& b, std::size_t off) {
  T v{};
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

const FakeKexecSys::LoadCall::Segment* segment_at(const FakeKexecSys::LoadCall& c,
                                                  std::uint64_t mem) {
  for (const auto& s : c.segments)
    if (s.mem == mem)
      return &s;
  return nullptr;
}

} // namespace

TEST_CASE("legacy load: segments, boot_params, elfcorehdr= and the purgatory agree", "[legacy]") {
  Machine m;
  auto rep = load(m.sys, m.request());
  REQUIRE(rep);
  CHECK(std::string(rep->syscall) == "kexec_load");
  CHECK(m.sys.file_load_calls.empty());
  REQUIRE(m.sys.load_calls.size() == 1);
  const auto& call = m.sys.load_calls[0];
  CHECK(call.flags == 0x3e0001);
  REQUIRE(call.segments.size() == 5);

  // Inside the high crash range, page aligned, sorted, disjoint, bufsz <= memsz.
  std::uint64_t prev_end = kHighStart, largest_gap = 0;
  for (const auto& s : call.segments) {
    if (s.mem > prev_end)
      largest_gap = std::max(largest_gap, s.mem - prev_end);
    CHECK(s.mem >= kHighStart);
    CHECK(s.mem + s.memsz - 1 <= kHighEnd);
    CHECK(s.mem % 4096 == 0);
    CHECK(s.memsz % 4096 == 0);
    CHECK(s.bytes.size() <= s.memsz);
    CHECK(s.mem >= prev_end);
    prev_end = s.mem + s.memsz;
  }
  // The kernel puts its crash control page in a free page of the range.
  largest_gap = std::max(largest_gap, kHighEnd + 1 - prev_end);
  CHECK(largest_gap >= 4096);

  // Find the pieces by content.
  const auto payload = std::string(reinterpret_cast<const char*>(m.kernel_bytes.data()) + 5 * 512,
                                   m.kernel_bytes.size() - 5 * 512);
  const FakeKexecSys::LoadCall::Segment *kernel = nullptr, *initrd = nullptr, *setup = nullptr,
                                        *elf = nullptr, *purg = nullptr;
  for (const auto& s : call.segments) {
    if (s.bytes == payload)
      kernel = &s;
    else if (s.bytes.size() == m.initrd_bytes.size())
      initrd = &s;
    else if (s.bytes.compare(0, 4,
                             "\x7f"
                             "ELF") == 0)
      elf = &s;
    else if (s.bytes.size() == purgatory_size())
      purg = &s;
    else
      setup = &s;
  }
  REQUIRE(kernel);
  REQUIRE(initrd);
  REQUIRE(setup);
  REQUIRE(elf);
  REQUIRE(purg);
  CHECK(call.entry == purg->mem);
  CHECK(kernel->mem % 0x200000 == 0);
  CHECK(kernel->memsz == 0x3f98000);

  // boot_params: header copied, then the loader's fields.
  const std::string& bp = setup->bytes;
  REQUIRE(bp.size() > 4096);
  CHECK(bp.compare(0x202, 4, "HdrS") == 0);
  CHECK(at<std::uint32_t>(bp, 0x260) == 0x3f98000); // init_size from the image
  CHECK(at<std::uint8_t>(bp, kHdrTypeOfLoader) == 0xff);
  CHECK(at<std::uint32_t>(bp, kHdrCode32Start) == static_cast<std::uint32_t>(kernel->mem));
  const std::uint64_t ramdisk = at<std::uint32_t>(bp, kHdrRamdiskImage) |
                                std::uint64_t{at<std::uint32_t>(bp, kBpExtRamdiskImage)} << 32;
  CHECK(ramdisk == initrd->mem);
  CHECK(at<std::uint32_t>(bp, kHdrRamdiskSize) == m.initrd_bytes.size());
  const std::uint64_t cmdptr = at<std::uint32_t>(bp, kHdrCmdLinePtr) |
                               std::uint64_t{at<std::uint32_t>(bp, kBpExtCmdLinePtr)} << 32;
  CHECK(cmdptr == setup->mem + 4096);
  const std::string cmdline(bp.c_str() + 4096);
  char want[64];
  std::snprintf(want, sizeof want, "elfcorehdr=0x%llx ", static_cast<unsigned long long>(elf->mem));
  CHECK(cmdline == std::string(want) + "console=ttyS0 irqpoll nr_cpus=1 reset_devices");
  CHECK(rep->cmdline == cmdline);
  CHECK(at<std::uint64_t>(bp, kBpAcpiRsdpAddr) == 0xf5a40);
  // e820: the high crash range is RAM except the ELF header's pages.
  const unsigned n = at<std::uint8_t>(bp, kBootParamsE820EntriesOffset);
  REQUIRE(n > 0);
  bool elf_as_ram = false, kernel_as_ram = false;
  for (unsigned i = 0; i < n; ++i) {
    const std::size_t off = kBootParamsE820TableOffset + i * kBootE820EntrySize;
    const auto addr = at<std::uint64_t>(bp, off), size = at<std::uint64_t>(bp, off + 8);
    if (at<std::uint32_t>(bp, off + 16) != 1)
      continue;
    if (elf->mem >= addr && elf->mem < addr + size)
      elf_as_ram = true;
    if (kernel->mem >= addr && kernel->mem + kernel->memsz <= addr + size)
      kernel_as_ram = true;
  }
  CHECK_FALSE(elf_as_ram);
  CHECK(kernel_as_ram);

  // elfcorehdr: two CPU notes (cpu2 has none), VMCOREINFO, text at the kcore address.
  const std::string& eh = elf->bytes;
  const auto phnum = at<std::uint16_t>(eh, 56);
  REQUIRE(phnum >= 4);
  CHECK(at<std::uint32_t>(eh, 64) == PT_NOTE);
  CHECK(at<std::uint64_t>(eh, 64 + 24) == 0x43fc1e000ull);
  CHECK(at<std::uint32_t>(eh, 64 + 56) == PT_NOTE);
  CHECK(at<std::uint32_t>(eh, 64 + 2 * 56) == PT_NOTE); // VMCOREINFO
  CHECK(at<std::uint64_t>(eh, 64 + 2 * 56 + 24) == 0x5e5a1000ull);
  CHECK(at<std::uint32_t>(eh, 64 + 3 * 56) == PT_LOAD);
  CHECK(at<std::uint64_t>(eh, 64 + 3 * 56 + 16) == kTextVaddr);
  CHECK(at<std::uint64_t>(eh, 64 + 3 * 56 + 24) == 0x5d000000ull);
  CHECK(at<std::uint64_t>(eh, 64 + 4 * 56 + 16) - at<std::uint64_t>(eh, 64 + 4 * 56 + 24) ==
        kPageOffset);

  // Purgatory: enters the kernel's 64-bit entry with boot_params, and the digest it will
  // recompute (with its own SHA-256) over what the kernel copies matches.
  ck_purgatory_params p;
  std::memcpy(&p, purg->bytes.data() + CK_PURGATORY_PARAMS_OFFSET, sizeof p);
  CHECK(p.entry_rip == kernel->mem + 0x200);
  CHECK(p.entry_rsi == setup->mem);
  REQUIRE(p.nr_regions == 4);
  ck_sha256 s;
  ck_sha256_init(&s);
  for (unsigned i = 0; i < p.nr_regions; ++i) {
    const auto* seg = segment_at(call, p.regions[i].start);
    REQUIRE(seg);
    REQUIRE(p.regions[i].len <= seg->bytes.size());
    ck_sha256_update(&s, seg->bytes.data(), p.regions[i].len);
  }
  std::uint8_t d[32];
  ck_sha256_final(&s, d);
  CHECK(std::memcmp(d, p.digest, 32) == 0);
}

TEST_CASE("legacy load: loads the images load() opened and checked, probing once", "[legacy]") {
  Machine m;
  REQUIRE(load(m.sys, m.request()));
  REQUIRE(m.sys.load_calls.size() == 1);
  CHECK(m.sys.open_counts.at(m.kernel) == 1);
  CHECK(m.sys.open_counts.at(m.initrd) == 1);
  CHECK(m.sys.read_counts.at("/proc/iomem") == 1);
  CHECK(m.sys.read_counts.at("/sys/kernel/security/lockdown") == 1);
}

TEST_CASE("prepare_legacy_load: builds from the probed state and the opened images", "[legacy]") {
  Machine m;
  auto state = probe_system(m.sys);
  REQUIRE(state);
  auto kernel = m.sys.open_image(m.kernel);
  auto initrd = m.sys.open_image(m.initrd);
  REQUIRE(kernel);
  REQUIRE(initrd);
  auto header = parse_bzimage(m.kernel_bytes, m.kernel_bytes.size(), m.kernel);
  REQUIRE(header);
  m.sys.files.erase("/proc/iomem"); // probe_system's copy is the one used
  LegacyLoadRequest req;
  req.kernel = m.kernel;
  req.kernel_file = &*kernel;
  req.kernel_header = *header;
  req.initrd = m.initrd;
  req.initrd_file = &*initrd;
  req.cmdline = "console=ttyS0";
  auto prepared = prepare_legacy_load(m.sys, *state, req);
  REQUIRE(prepared);
  CHECK(prepared->segments.size() == 5);
  CHECK_THAT(prepared->cmdline, Contains("elfcorehdr=0x") && Contains(" console=ttyS0"));
  CHECK(m.sys.kexec_load_calls == 0);

  req.initrd_file = nullptr;
  auto bad = prepare_legacy_load(m.sys, *state, req);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().category() == crashkit::ErrorCategory::internal);
}

TEST_CASE("legacy load: refused under lockdown before any syscall", "[legacy]") {
  Machine m;
  m.sys.files["/sys/kernel/security/lockdown"] = "none [integrity] confidentiality\n";
  auto rep = load(m.sys, m.request());
  REQUIRE_FALSE(rep);
  CHECK(rep.error().sys_errno() == EPERM);
  CHECK_THAT(rep.error().message(),
             Contains("lockdown (integrity) forbids kexec_load") && Contains("--syscall file"));
  CHECK(m.sys.kexec_load_calls == 0);
  CHECK(m.sys.file_load_calls.empty());
}

TEST_CASE("auto: kexec_load only when kexec_file_load is missing", "[legacy]") {
  Machine m;
  SECTION("ENOSYS falls back") {
    m.sys.file_load_errno = ENOSYS;
    auto rep = load(m.sys, m.request(SyscallChoice::automatic));
    REQUIRE(rep);
    CHECK(std::string(rep->syscall) == "kexec_load");
    CHECK(m.sys.file_load_calls.size() == 1);
    CHECK(m.sys.load_calls.size() == 1);
  }
  SECTION("ENOSYS under lockdown does not") {
    m.sys.file_load_errno = ENOSYS;
    m.sys.files["/sys/kernel/security/lockdown"] = "none integrity [confidentiality]\n";
    auto rep = load(m.sys, m.request(SyscallChoice::automatic));
    REQUIRE_FALSE(rep);
    CHECK_THAT(rep.error().message(), Contains("ENOSYS") && Contains("lockdown"));
    CHECK(m.sys.kexec_load_calls == 0);
  }
  SECTION("other errors do not") {
    m.sys.file_load_errno = EKEYREJECTED;
    auto rep = load(m.sys, m.request(SyscallChoice::automatic));
    REQUIRE_FALSE(rep);
    CHECK(m.sys.kexec_load_calls == 0);
  }
}

TEST_CASE("legacy load: errors name what is missing", "[legacy]") {
  Machine m;
  SECTION("reboot slot") {
    auto r = m.request();
    r.slot = Slot::reboot;
    auto rep = load(m.sys, r);
    REQUIRE_FALSE(rep);
    CHECK(rep.error().category() == crashkit::ErrorCategory::unsupported);
    CHECK_THAT(rep.error().message(), Contains("panic slot only"));
  }
  SECTION("no /proc/kcore") {
    m.sys.files.erase("/proc/kcore");
    auto rep = load(m.sys, m.request());
    REQUIRE_FALSE(rep);
    CHECK_THAT(rep.error().message(), Contains("/proc/kcore"));
    CHECK(m.sys.kexec_load_calls == 0);
  }
  SECTION("corrupt kernel") {
    samples::BzImageShape s;
    s.drop_tail = 5000;
    samples::write_file(m.kernel, samples::synthetic_bzimage(s));
    auto rep = load(m.sys, m.request());
    REQUIRE_FALSE(rep);
    CHECK(rep.error().category() == crashkit::ErrorCategory::data);
    CHECK_THAT(rep.error().message(), Contains("truncated"));
    CHECK(m.sys.kexec_load_calls == 0);
  }
  SECTION("empty kernel file, either syscall") {
    samples::write_file(m.kernel, {});
    for (auto sc : {SyscallChoice::file, SyscallChoice::legacy}) {
      auto rep = load(m.sys, m.request(sc));
      REQUIRE_FALSE(rep);
      CHECK_THAT(rep.error().message(), Contains("not a bzImage (0 bytes"));
    }
    CHECK(m.sys.file_load_calls.empty());
    CHECK(m.sys.kexec_load_calls == 0);
  }
  SECTION("the kernel's init_size does not fit") {
    m.sys.files["/proc/iomem"] =
        "00001000-0009efff : System RAM\n00100000-bffd9fff : System RAM\n"
        "  5d000000-5dffffff : Kernel code\n  5f2d3000-5f5fffff : Kernel bss\n"
        "  ab000000-acffffff : Crash kernel\n";
    m.sys.files["/sys/kernel/kexec_crash_size"] = "33554432\n";
    auto rep = load(m.sys, m.request());
    REQUIRE_FALSE(rep);
    CHECK(rep.error().category() == crashkit::ErrorCategory::unsupported);
    CHECK_THAT(rep.error().message(), Contains("kernel"));
    CHECK(m.sys.kexec_load_calls == 0);
  }
  SECTION("the syscall fails: advice and the slot's state") {
    m.sys.load_errno = EBUSY;
    auto rep = load(m.sys, m.request());
    REQUIRE_FALSE(rep);
    CHECK_THAT(rep.error().message(),
               Contains("kexec_load") && Contains("retry") && Contains("no panic kernel is armed"));
  }
}
