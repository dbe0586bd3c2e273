#include "crashkit/loader/legacy_loader.hpp"

#include <spdlog/spdlog.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "crashkit/base/hex.hpp"
#include "crashkit/loader/boot_params.hpp"
#include "crashkit/loader/bzimage.hpp"
#include "crashkit/loader/e820.hpp"
#include "crashkit/loader/elf_core_header.hpp"
#include "crashkit/loader/purgatory.hpp"
#include "crashkit/loader/reservation.hpp"
#include "crashkit/loader/segment_plan.hpp"

namespace crashkit::loader {
namespace {

/// A read-only private mapping of a whole image: kexec_load copies from it, so neither the
/// kernel nor a multi-hundred-MiB initrd is read into our heap.
class MappedImage {
public:
  static Result<MappedImage> map(int fd, std::uint64_t size, const std::string& path) {
    if (size == 0)
      return Error(ErrorCategory::data, "empty file").with_path(path);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
      return Error::from_errno(errno, "mmap").with_path(path);
    MappedImage m;
    m.data_ = static_cast<const std::byte*>(p);
    m.size_ = size;
    return m;
  }
  MappedImage() = default;
  MappedImage(MappedImage&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(o.size_) {}
  MappedImage& operator=(MappedImage&&) = delete;
  ~MappedImage() {
    if (data_)
      ::munmap(const_cast<std::byte*>(data_), size_);
  }
  std::span<const std::byte> bytes() const { return {data_, size_}; }

private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

constexpr const char* kPathCpuPossible = "/sys/devices/system/cpu/possible";
constexpr const char* kPathVmcoreinfo = "/sys/kernel/vmcoreinfo";
constexpr const char* kPathKcore = "/proc/kcore";
constexpr const char* kPathBootParams = "/sys/kernel/boot_params/data";
constexpr const char* kPathEfiSystab = "/sys/firmware/efi/systab";
constexpr std::size_t kKcoreHeadBytes = 64 * 1024;

/// Everything the ELF core header is made of, read from the running kernel.
Result<ElfCoreInputs> read_elf_core_inputs(KexecSys& sys, const std::vector<IomemEntry>& iomem,
                                           const Reservation& res) {
  ElfCoreInputs in;
  auto possible = CK_TRY(sys.read_file(kPathCpuPossible));
  auto cpus = parse_cpu_list(possible);
  if (!cpus)
    return std::move(cpus).error().with_path(kPathCpuPossible);
  for (unsigned cpu : *cpus) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
    auto addr = sys.read_file(dir + "/crash_notes");
    if (!addr)
      continue; // possible but never brought up: no notes to describe
    auto size = CK_TRY(sys.read_file(dir + "/crash_notes_size"));
    auto note = parse_crash_notes(*addr, size);
    if (!note)
      return std::move(note).error().with_path(dir + "/crash_notes");
    in.cpu_notes.push_back(*note);
  }
  if (in.cpu_notes.empty())
    return Error(ErrorCategory::unsupported,
                 "no /sys/devices/system/cpu/cpuN/crash_notes: this kernel has no crash notes "
                 "(CONFIG_CRASH_DUMP off?)");
  auto vi = CK_TRY(sys.read_file(kPathVmcoreinfo));
  in.vmcoreinfo = CK_TRY(parse_vmcoreinfo(vi));
  in.kernel_text = CK_TRY(kernel_text_from_iomem(iomem));
  // KASLR moves both the kernel image and the direct map; /proc/kcore says where they are.
  auto kcore =
      CK_TRY_CONTEXT(sys.read_prefix(kPathKcore, kKcoreHeadBytes),
                     "kexec_load needs /proc/kcore's headers for the kernel's virtual layout");
  auto layout = CK_TRY(parse_kcore_layout(as_bytes(kcore)));
  in.kernel_text_vaddr = layout.kernel_text_vaddr;
  in.page_offset = layout.page_offset;
  in.ram = CK_TRY(dump_ranges(res));
  return in;
}

/// The ACPI root pointer for the capture kernel: the one the boot loader gave this kernel, or
/// the EFI system table's; 0 lets the kernel scan the BIOS area (legacy BIOS machines).
std::uint64_t find_acpi_rsdp(KexecSys& sys) {
  if (auto bp = sys.read_prefix(kPathBootParams, kBootParamsSize);
      bp && bp->size() >= kBpAcpiRsdpAddr + 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, bp->data() + kBpAcpiRsdpAddr, sizeof v);
    if (v)
      return v;
  }
  if (auto systab = sys.read_file(kPathEfiSystab)) {
    std::uint64_t acpi1 = 0;
    std::size_t pos = 0;
    while (pos < systab->size()) {
      auto nl = systab->find('\n', pos);
      std::string line = systab->substr(pos, nl == std::string::npos ? nl : nl - pos);
      pos = nl == std::string::npos ? systab->size() : nl + 1;
      auto eq = line.find('=');
      if (eq == std::string::npos)
        continue;
      const auto v = std::strtoull(line.c_str() + eq + 1, nullptr, 16);
      if (line.compare(0, eq, "ACPI20") == 0 && v)
        return v;
      if (line.compare(0, eq, "ACPI") == 0)
        acpi1 = v;
    }
    return acpi1;
  }
  return 0;
}

} // namespace

struct PreparedLegacyLoad::Storage {
  MappedImage kernel;
  std::optional<MappedImage> initrd;
  std::vector<std::byte> setup, elfcorehdr, purgatory;
};

Result<PreparedLegacyLoad> prepare_legacy_load(KexecSys& sys, const SystemState& state,
                                               const LegacyLoadRequest& req) {
#if !defined(__x86_64__)
  (void)sys, (void)state, (void)req;
  return Error(ErrorCategory::unsupported,
               "--syscall legacy is implemented for x86_64 only; use --syscall file");
#else
  if (!req.kernel_file || req.initrd.has_value() != (req.initrd_file != nullptr))
    return Error(ErrorCategory::internal, "prepare_legacy_load: an image was not opened");
  if (state.lockdown == Lockdown::integrity || state.lockdown == Lockdown::confidentiality)
    return Error(ErrorCategory::no_input,
                 std::string("kernel lockdown (") + lockdown_name(state.lockdown) +
                     ") forbids kexec_load, which cannot prove the kernel is signed; not "
                     "attempted: use --syscall file (kexec_file_load checks the signature)",
                 EPERM);

  const BzImage& image = req.kernel_header;
  if (!image.relocatable)
    return Error(ErrorCategory::data, "not relocatable (offset 0x234): it can only run at " +
                                          hex(image.pref_address) +
                                          ", outside the crash reservation")
        .with_path(req.kernel);
  auto kmap =
      CK_TRY(MappedImage::map(req.kernel_file->fd.get(), req.kernel_file->size, req.kernel));

  const OpenedImage* initrd = req.initrd_file;
  std::optional<MappedImage> imap;
  if (initrd) {
    auto m = CK_TRY(MappedImage::map(initrd->fd.get(), initrd->size, *req.initrd));
    imap.emplace(std::move(m));
  }

  if (!state.reservation)
    return state.iomem_error.value_or(
        Error(ErrorCategory::no_input, "not read").with_path(kPathIomem));
  const Reservation& res = *state.reservation;
  if (res.addresses_hidden)
    return Error(ErrorCategory::no_input, "addresses are hidden: kexec_load needs root", EPERM)
        .with_path(kPathIomem);
  auto crash = res.segment_range();
  if (!crash)
    return Error(ErrorCategory::unsupported, "no \"Crash kernel\" range", EADDRNOTAVAIL)
        .with_path(kPathIomem);

  auto inputs = CK_TRY(read_elf_core_inputs(sys, state.iomem, res));
  auto elfcorehdr = CK_TRY(build_elf_core_header(inputs));

  // The capture kernel finds its ELF header through elfcorehdr=, put first like the kernel's
  // own loader does so nothing after " -- " (init's arguments) can shadow it.
  constexpr std::size_t kElfcorehdrArgMax = sizeof("elfcorehdr=0x0123456789abcdef ");
  SegmentRequest sreq;
  sreq.crash = *crash;
  sreq.kernel_memsz = image.init_size;
  sreq.kernel_alignment = image.kernel_alignment;
  sreq.kernel_pref_address = image.pref_address;
  sreq.kernel_relocatable = image.relocatable;
  sreq.initrd_size = initrd ? initrd->size : 0;
  sreq.initrd_limit = (image.xloadflags & kXlfCanBeLoadedAbove4G)
                          ? UINT64_MAX
                          : std::uint64_t{image.initrd_addr_max} + 1;
  sreq.setup_size = kBootParamsSize + kElfcorehdrArgMax + req.cmdline.size() + 1;
  sreq.elfcorehdr_size = elfcorehdr.size();
  sreq.purgatory_size = purgatory_size();
  auto plan = CK_TRY_CONTEXT(plan_segments(sreq), "kexec_load");
  const auto kseg = *plan.find(SegmentKind::kernel);
  const auto sseg = *plan.find(SegmentKind::setup);
  const auto eseg = *plan.find(SegmentKind::elfcorehdr);
  const auto pseg = *plan.find(SegmentKind::purgatory);
  const auto iseg = plan.find(SegmentKind::initrd);

  PreparedLegacyLoad out;
  out.entry = pseg.mem;
  out.cmdline = "elfcorehdr=" + hex(eseg.mem) + " " + req.cmdline;

  auto e820 = CK_TRY(capture_e820(state.iomem, {MemRange{eseg.mem, eseg.mem + eseg.memsz - 1}}));
  BootParamsRequest breq;
  breq.image_head = kmap.bytes().first(image.setup_size);
  breq.image = image;
  breq.setup_addr = sseg.mem;
  breq.kernel_addr = kseg.mem;
  if (iseg) {
    breq.initrd_addr = iseg->mem;
    breq.initrd_size = initrd->size;
  }
  breq.cmdline = out.cmdline;
  breq.e820 = std::move(e820);
  breq.acpi_rsdp = find_acpi_rsdp(sys);
  auto setup = CK_TRY(build_boot_params(breq));

  const auto payload = kmap.bytes().subspan(image.setup_size);
  PurgatoryRequest preq;
  preq.entry_rip = kseg.mem + kEntry64Offset;
  preq.entry_rsi = sseg.mem;
  preq.corrupt_digest = req.corrupt_digest;
  preq.regions.push_back({kseg.mem, payload});
  if (iseg)
    preq.regions.push_back({iseg->mem, imap->bytes()});
  preq.regions.push_back({sseg.mem, setup});
  preq.regions.push_back({eseg.mem, elfcorehdr});
  auto purgatory = CK_TRY(build_purgatory(preq));

  auto store = std::make_shared<PreparedLegacyLoad::Storage>(
      PreparedLegacyLoad::Storage{std::move(kmap), std::move(imap), std::move(setup),
                                  std::move(elfcorehdr), std::move(purgatory)});
  const auto kernel_payload = store->kernel.bytes().subspan(image.setup_size);
  for (const auto& p : plan.segments) {
    std::span<const std::byte> b;
    switch (p.kind) {
    case SegmentKind::kernel:
      b = kernel_payload;
      break;
    case SegmentKind::initrd:
      b = store->initrd->bytes();
      break;
    case SegmentKind::setup:
      b = store->setup;
      break;
    case SegmentKind::elfcorehdr:
      b = store->elfcorehdr;
      break;
    case SegmentKind::purgatory:
      b = store->purgatory;
      break;
    }
    out.segments.push_back({b.data(), b.size(), p.mem, p.memsz});
    spdlog::debug("segment {:<10} {:#014x}+{:#x} ({} bytes)", segment_kind_name(p.kind), p.mem,
                  p.memsz, b.size());
  }
  out.storage = std::move(store);
  return out;
#endif
}

} // namespace crashkit::loader
