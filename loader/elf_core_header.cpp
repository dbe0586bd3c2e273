#include "crashkit/loader/elf_core_header.hpp"
#include "crashkit/base/hex.hpp"

#include <elf.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

namespace crashkit::loader {
namespace {

constexpr std::uint64_t k1GiB = 1ull << 30;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> parse_num(std::string_view s, int base) {
  s = trim(s);
  if (base == 16 && (s.starts_with("0x") || s.starts_with("0X")))
    s.remove_prefix(2);
  std::uint64_t v = 0;
  if (s.empty())
    return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || p != s.data() + s.size())
    return std::nullopt;
  return v;
}

Error usage(const std::string& what) {
  return Error(ErrorCategory::usage, "ELF core header: " + what);
}

// The header is read by an x86_64 kernel, so it is written little-endian field by field
// whatever the host; the offsets are pinned against <elf.h>.
void put(std::vector<std::byte>& out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i)
    out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}

static_assert(sizeof(Elf64_Ehdr) == 64 && offsetof(Elf64_Ehdr, e_type) == 16 &&
              offsetof(Elf64_Ehdr, e_entry) == 24 && offsetof(Elf64_Ehdr, e_flags) == 48 &&
              offsetof(Elf64_Ehdr, e_phnum) == 56 && offsetof(Elf64_Ehdr, e_shstrndx) == 62);
void put_ehdr(std::vector<std::byte>& out, const Elf64_Ehdr& e) {
  for (unsigned char c : e.e_ident)
    put(out, c, 1);
  put(out, e.e_type, 2);
  put(out, e.e_machine, 2);
  put(out, e.e_version, 4);
  put(out, e.e_entry, 8);
  put(out, e.e_phoff, 8);
  put(out, e.e_shoff, 8);
  put(out, e.e_flags, 4);
  put(out, e.e_ehsize, 2);
  put(out, e.e_phentsize, 2);
  put(out, e.e_phnum, 2);
  put(out, e.e_shentsize, 2);
  put(out, e.e_shnum, 2);
  put(out, e.e_shstrndx, 2);
}

static_assert(sizeof(Elf64_Phdr) == 56 && offsetof(Elf64_Phdr, p_flags) == 4 &&
              offsetof(Elf64_Phdr, p_offset) == 8 && offsetof(Elf64_Phdr, p_vaddr) == 16 &&
              offsetof(Elf64_Phdr, p_paddr) == 24 && offsetof(Elf64_Phdr, p_align) == 48);
void put_phdr(std::vector<std::byte>& out, const Elf64_Phdr& p) {
  put(out, p.p_type, 4);
  put(out, p.p_flags, 4);
  put(out, p.p_offset, 8);
  put(out, p.p_vaddr, 8);
  put(out, p.p_paddr, 8);
  put(out, p.p_filesz, 8);
  put(out, p.p_memsz, 8);
  put(out, p.p_align, 8);
}

Elf64_Phdr phdr(Elf64_Word type, std::uint64_t paddr, std::uint64_t vaddr, std::uint64_t size) {
  Elf64_Phdr p{};
  p.p_type = type;
  // Same flags and zero alignment as the kernel's own header (crash_prepare_elf64_headers);
  // p_offset = p_paddr because /proc/vmcore reads old memory by physical address.
  p.p_flags = type == PT_LOAD ? (PF_R | PF_W | PF_X) : 0;
  p.p_offset = paddr;
  p.p_paddr = paddr;
  p.p_vaddr = vaddr;
  p.p_filesz = size;
  p.p_memsz = size;
  p.p_align = 0;
  return p;
}

bool wraps(std::uint64_t a, std::uint64_t size) {
  return size != 0 && a + (size - 1) < a;
}

} // namespace

std::vector<MemRange> subtract_ranges(const MemRange& r, const std::vector<MemRange>& cuts) {
  std::vector<MemRange> pieces{r};
  for (const auto& c : cuts) {
    std::vector<MemRange> next;
    for (const auto& p : pieces) {
      if (c.end < p.start || c.start > p.end) {
        next.push_back(p);
        continue;
      }
      if (c.start > p.start)
        next.push_back({p.start, c.start - 1});
      if (c.end < p.end)
        next.push_back({c.end + 1, p.end});
    }
    pieces = std::move(next);
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const MemRange& a, const MemRange& b) { return a.start < b.start; });
  return pieces;
}

Result<KernelText> kernel_text_from_iomem(const std::vector<IomemEntry>& entries) {
  const IomemEntry* code = nullptr;
  const IomemEntry* bss = nullptr;
  for (const auto& e : entries) {
    if (e.name == "Kernel code" && !code)
      code = &e;
    if (e.name == "Kernel bss" && !bss)
      bss = &e;
  }
  auto err = [](const std::string& w) {
    return Error(ErrorCategory::data, w).with_path("/proc/iomem");
  };
  if (!code)
    return err("no 'Kernel code' range");
  if (!bss)
    return err("no 'Kernel bss' range");
  if (bss->end < code->start)
    return err("'Kernel bss' ends before 'Kernel code' starts");
  return KernelText{code->start, bss->end - code->start + 1};
}

Result<std::vector<MemRange>> dump_ranges(const Reservation& res) {
  if (res.addresses_hidden)
    return Error(ErrorCategory::data, "addresses are hidden (read it as root with CAP_SYS_ADMIN)")
        .with_path("/proc/iomem");
  std::vector<MemRange> ram = res.system_ram;
  std::sort(ram.begin(), ram.end(),
            [](const MemRange& a, const MemRange& b) { return a.start < b.start; });
  std::vector<MemRange> cut = res.crash_ranges;
  cut.push_back({0, kLowMemEnd - 1});

  std::vector<MemRange> out;
  for (const MemRange& r : ram) {
    for (const auto& p : subtract_ranges(r, cut)) {
      if (!out.empty() && out.back().end + 1 >= p.start)
        out.back().end = std::max(out.back().end, p.end);
      else
        out.push_back(p);
    }
  }
  if (out.empty())
    return Error(ErrorCategory::data,
                 "no System RAM left to dump outside the crash ranges and the first MiB")
        .with_path("/proc/iomem");
  return out;
}

Result<PhysChunk> parse_crash_notes(std::string_view addr_text, std::string_view size_text) {
  auto a = parse_num(addr_text, 16);
  auto s = parse_num(size_text, 10);
  if (!a)
    return Error(ErrorCategory::data,
                 "crash_notes: expected a hex address, got '" + std::string(trim(addr_text)) + "'");
  if (!s)
    return Error(ErrorCategory::data, "crash_notes_size: expected a decimal size, got '" +
                                          std::string(trim(size_text)) + "'");
  return PhysChunk{*a, *s};
}

Result<PhysChunk> parse_vmcoreinfo(std::string_view text) {
  auto t = trim(text);
  auto sp = t.find(' ');
  std::optional<std::uint64_t> a, s;
  if (sp != std::string_view::npos) {
    a = parse_num(t.substr(0, sp), 16);
    s = parse_num(t.substr(sp + 1), 16);
  }
  if (!a || !s)
    return Error(ErrorCategory::data,
                 "expected '<paddr hex> <size hex>', got '" + std::string(t) + "'")
        .with_path("/sys/kernel/vmcoreinfo");
  return PhysChunk{*a, *s};
}

Result<std::vector<std::byte>> build_elf_core_header(const ElfCoreInputs& in) {
  if (in.cpu_notes.empty())
    return usage("no CPU crash notes");
  for (std::size_t i = 0; i < in.cpu_notes.size(); ++i) {
    const auto& n = in.cpu_notes[i];
    if (n.size == 0 || wraps(n.paddr, n.size))
      return usage("CPU note #" + std::to_string(i) + " at " + hex(n.paddr) + " size " +
                   hex(n.size) + " is empty or wraps");
  }
  if (in.vmcoreinfo.size == 0 || wraps(in.vmcoreinfo.paddr, in.vmcoreinfo.size))
    return usage("VMCOREINFO note at " + hex(in.vmcoreinfo.paddr) + " is empty or wraps");
  if (in.kernel_text.size == 0 || wraps(in.kernel_text.paddr, in.kernel_text.size))
    return usage("kernel text at " + hex(in.kernel_text.paddr) + " is empty or wraps");
  // KERNEL_IMAGE_SIZE is 1 GiB with KASLR (512 MiB without): _text must fall in that window.
  if (in.kernel_text_vaddr < kStartKernelMap || in.kernel_text_vaddr - kStartKernelMap >= k1GiB ||
      wraps(in.kernel_text_vaddr, in.kernel_text.size))
    return usage("kernel text address " + hex(in.kernel_text_vaddr) +
                 " is outside the kernel image mapping at " + hex(kStartKernelMap));
  // KASLR randomises the direct map base in 1 GiB (PUD) steps.
  if (in.page_offset % k1GiB != 0)
    return usage("page_offset " + hex(in.page_offset) + " is not 1 GiB aligned");
  for (std::size_t i = 0; i < in.ram.size(); ++i) {
    const auto& r = in.ram[i];
    if (r.end < r.start || (i > 0 && r.start <= in.ram[i - 1].end))
      return usage("RAM range #" + std::to_string(i) + " " + hex(r.start) + "-" + hex(r.end) +
                   " is inverted, unsorted or overlaps the previous one");
    if (in.page_offset + r.end < in.page_offset)
      return usage("RAM range " + hex(r.start) + "-" + hex(r.end) +
                   " does not fit the direct map at " + hex(in.page_offset));
  }
  const std::size_t phnum = in.cpu_notes.size() + 2 + in.ram.size();
  if (phnum >= PN_XNUM)
    return usage(std::to_string(phnum) + " program headers (max 65534)");

  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(phnum);

  std::vector<std::byte> out;
  out.reserve(sizeof eh + phnum * sizeof(Elf64_Phdr));
  put_ehdr(out, eh);
  for (const auto& n : in.cpu_notes)
    put_phdr(out, phdr(PT_NOTE, n.paddr, 0, n.size));
  put_phdr(out, phdr(PT_NOTE, in.vmcoreinfo.paddr, 0, in.vmcoreinfo.size));
  put_phdr(out, phdr(PT_LOAD, in.kernel_text.paddr, in.kernel_text_vaddr, in.kernel_text.size));
  for (const auto& r : in.ram)
    put_phdr(out, phdr(PT_LOAD, r.start, in.page_offset + r.start, r.size()));
  return out;
}

} // namespace crashkit::loader

namespace crashkit::loader {

Result<KcoreLayout> parse_kcore_layout(std::span<const std::byte> head) {
  auto bad = [](const std::string& what) {
    return Error(ErrorCategory::data, what).with_path("/proc/kcore");
  };
  Elf64_Ehdr eh;
  if (head.size() < sizeof eh)
    return bad("shorter than an ELF header");
  std::memcpy(&eh, head.data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr))
    return bad("not an ELF64 core");
  if (eh.e_phoff + std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr) > head.size())
    return bad("program headers end past the " + std::to_string(head.size()) + " bytes read");
  std::optional<std::uint64_t> text, offset;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, head.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != PT_LOAD || ph.p_paddr == ~0ull)
      continue;
    if (ph.p_vaddr >= kStartKernelMap && ph.p_vaddr - kStartKernelMap < k1GiB) {
      if (!text)
        text = ph.p_vaddr;
    } else if (ph.p_vaddr < kStartKernelMap && !offset && ph.p_vaddr >= ph.p_paddr &&
               (ph.p_vaddr - ph.p_paddr) % k1GiB == 0) {
      offset = ph.p_vaddr - ph.p_paddr;
    }
  }
  if (!text)
    return bad("no PT_LOAD for the kernel image (in " + hex(kStartKernelMap) + " + 1 GiB)");
  if (!offset)
    return bad("no direct-map PT_LOAD with a physical address");
  return KcoreLayout{*text, *offset};
}

Result<std::vector<unsigned>> parse_cpu_list(std::string_view text) {
  std::vector<unsigned> out;
  auto t = trim(text);
  auto bad = [&] {
    return Error(ErrorCategory::data,
                 "expected a CPU list like 0-3,5, got '" + std::string(t) + "'");
  };
  if (t.empty())
    return bad();
  while (!t.empty()) {
    auto comma = t.find(',');
    auto item = t.substr(0, comma);
    t = comma == std::string_view::npos ? std::string_view{} : t.substr(comma + 1);
    auto dash = item.find('-');
    auto a = parse_num(item.substr(0, dash), 10);
    auto b = dash == std::string_view::npos ? a : parse_num(item.substr(dash + 1), 10);
    if (!a || !b || *b < *a || *b > 65535)
      return bad();
    for (auto c = *a; c <= *b; ++c)
      out.push_back(static_cast<unsigned>(c));
  }
  return out;
}

} // namespace crashkit::loader
