#include <catch2/catch.hpp>

#include <elf.h>

#include <cstring>

#include "crashkit/loader/elf_core_header.hpp"
#include "samples.hpp"

using namespace crashkit::loader;

namespace {

struct Parsed {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
};

Parsed parse(const std::vector<std::byte>& b) {
  Parsed p;
  REQUIRE(b.size() >= sizeof(Elf64_Ehdr));
  std::memcpy(&p.eh, b.data(), sizeof p.eh);
  REQUIRE(b.size() == p.eh.e_phoff + std::size_t{p.eh.e_phnum} * p.eh.e_phentsize);
  for (unsigned i = 0; i < p.eh.e_phnum; ++i) {
    Elf64_Phdr h{};
    std::memcpy(&h, b.data() + p.eh.e_phoff + i * sizeof h, sizeof h);
    p.ph.push_back(h);
  }
  return p;
}

void check_phdr(const Elf64_Phdr& h, Elf64_Word type, std::uint64_t paddr, std::uint64_t vaddr,
                std::uint64_t size) {
  CHECK(h.p_type == type);
  CHECK(h.p_flags == (type == PT_LOAD ? (PF_R | PF_W | PF_X) : 0u));
  CHECK(h.p_offset == paddr);
  CHECK(h.p_paddr == paddr);
  CHECK(h.p_vaddr == vaddr);
  CHECK(h.p_filesz == size);
  CHECK(h.p_memsz == size);
  CHECK(h.p_align == 0);
}

std::vector<IomemEntry> iomem(const char* text) {
  auto e = parse_iomem(text);
  REQUIRE(e);
  return *e;
}

ElfCoreInputs inputs_for(const char* text) {
  auto entries = iomem(text);
  ElfCoreInputs in;
  auto kt = kernel_text_from_iomem(entries);
  REQUIRE(kt);
  in.kernel_text = *kt;
  auto ram = dump_ranges(reservation_from_iomem(entries));
  REQUIRE(ram);
  in.ram = *ram;
  in.cpu_notes = {{0x13fc1e5c0, 0x1a8}, {0x13fc5e5c0, 0x1a8}};
  in.vmcoreinfo = {0x2ce2000, 0x1000};
  return in;
}

} // namespace

TEST_CASE("elfcorehdr: kernel text spans 'Kernel code' to 'Kernel bss'", "[elfcorehdr]") {
  auto kt = kernel_text_from_iomem(iomem(samples::kIomemLowHigh));
  REQUIRE(kt);
  CHECK(*kt == KernelText{0x5d000000, 0x2600000});

  auto none = kernel_text_from_iomem(iomem(samples::kIomemSingle));
  REQUIRE_FALSE(none);
  CHECK(none.error().category() == crashkit::ErrorCategory::data);
  CHECK_THAT(none.error().message(), Catch::Contains("'Kernel bss'"));
}

TEST_CASE("elfcorehdr: dump ranges drop the crash ranges and the first MiB", "[elfcorehdr]") {
  auto r = dump_ranges(reservation_from_iomem(iomem(samples::kIomemLowHigh)));
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK((*r)[0] == MemRange{0x100000, 0xaaffffff});
  CHECK((*r)[1] == MemRange{0xbb000000, 0xbffd9fff});
  CHECK((*r)[2] == MemRange{0x100000000, 0x42effffff});
  CHECK((*r)[3] == MemRange{0x43f000000, 0x43fffffff});

  // A RAM range straddling 1 MiB keeps its upper part; adjacent ranges merge.
  auto s = dump_ranges(reservation_from_iomem(iomem("00001000-0017ffff : System RAM\n"
                                                    "00180000-001fffff : System RAM\n")));
  REQUIRE(s);
  REQUIRE(s->size() == 1);
  CHECK((*s)[0] == MemRange{0x100000, 0x1fffff});

  auto hidden = dump_ranges(reservation_from_iomem(iomem(samples::kIomemHidden)));
  REQUIRE_FALSE(hidden);
  CHECK_THAT(hidden.error().message(), Catch::Contains("hidden"));
}

TEST_CASE("elfcorehdr: sysfs note locations", "[elfcorehdr]") {
  auto n = parse_crash_notes("13fc1e5c0\n", "424\n");
  REQUIRE(n);
  CHECK(*n == PhysChunk{0x13fc1e5c0, 424});
  auto v = parse_vmcoreinfo("2ce2000 1024\n");
  REQUIRE(v);
  CHECK(*v == PhysChunk{0x2ce2000, 0x1024});

  CHECK_FALSE(parse_crash_notes("zz\n", "424\n"));
  CHECK_FALSE(parse_crash_notes("13fc1e5c0\n", "0x1a8\n"));
  auto bad = parse_vmcoreinfo("2ce2000\n");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("/sys/kernel/vmcoreinfo"));
}

TEST_CASE("elfcorehdr: every header field on the low+high sample", "[elfcorehdr]") {
  ElfCoreInputs in = inputs_for(samples::kIomemLowHigh);
  in.kernel_text_vaddr = 0xffffffff9a000000; // KASLR
  in.page_offset = 0xffff9c0000000000;       // KASLR memory randomisation
  auto bytes = build_elf_core_header(in);
  REQUIRE(bytes);
  CHECK(bytes->size() == 64 + 8 * 56);
  Parsed p = parse(*bytes);
  // Little-endian on the wire whatever the host: e_type, e_machine, then PT_LOAD #3's p_vaddr.
  const auto byte = [&](std::size_t i) { return std::to_integer<unsigned>((*bytes)[i]); };
  CHECK((byte(16) == 4 && byte(17) == 0 && byte(18) == 0x3e && byte(19) == 0));
  CHECK((byte(64 + 3 * 56 + 16) == 0x00 && byte(64 + 3 * 56 + 19) == 0x9a &&
         byte(64 + 3 * 56 + 23) == 0xff));

  CHECK(std::memcmp(p.eh.e_ident, ELFMAG, SELFMAG) == 0);
  CHECK(p.eh.e_ident[EI_CLASS] == ELFCLASS64);
  CHECK(p.eh.e_ident[EI_DATA] == ELFDATA2LSB);
  CHECK(p.eh.e_ident[EI_VERSION] == EV_CURRENT);
  CHECK(p.eh.e_ident[EI_OSABI] == ELFOSABI_NONE);
  for (int i = EI_ABIVERSION; i < EI_NIDENT; ++i)
    CHECK(p.eh.e_ident[i] == 0);
  CHECK(p.eh.e_type == ET_CORE);
  CHECK(p.eh.e_machine == EM_X86_64);
  CHECK(p.eh.e_version == EV_CURRENT);
  CHECK(p.eh.e_entry == 0);
  CHECK(p.eh.e_phoff == 64);
  CHECK(p.eh.e_shoff == 0);
  CHECK(p.eh.e_flags == 0);
  CHECK(p.eh.e_ehsize == 64);
  CHECK(p.eh.e_phentsize == 56);
  CHECK(p.eh.e_phnum == 8);
  CHECK(p.eh.e_shentsize == 0);
  CHECK(p.eh.e_shnum == 0);
  CHECK(p.eh.e_shstrndx == 0);

  REQUIRE(p.ph.size() == 8);
  check_phdr(p.ph[0], PT_NOTE, 0x13fc1e5c0, 0, 0x1a8);
  check_phdr(p.ph[1], PT_NOTE, 0x13fc5e5c0, 0, 0x1a8);
  check_phdr(p.ph[2], PT_NOTE, 0x2ce2000, 0, 0x1000);
  check_phdr(p.ph[3], PT_LOAD, 0x5d000000, 0xffffffff9a000000, 0x2600000);
  check_phdr(p.ph[4], PT_LOAD, 0x100000, 0xffff9c0000100000, 0xaaf00000);
  check_phdr(p.ph[5], PT_LOAD, 0xbb000000, 0xffff9c00bb000000, 0x4fda000);
  check_phdr(p.ph[6], PT_LOAD, 0x100000000, 0xffff9c0100000000, 0x32f000000);
  check_phdr(p.ph[7], PT_LOAD, 0x43f000000, 0xffff9c043f000000, 0x1000000);
}

TEST_CASE("elfcorehdr: defaults are the non-KASLR addresses", "[elfcorehdr]") {
  ElfCoreInputs in = inputs_for(samples::kIomemLowHigh);
  auto bytes = build_elf_core_header(in);
  REQUIRE(bytes);
  Parsed p = parse(*bytes);
  REQUIRE(p.ph.size() == 8);
  CHECK(p.ph[3].p_vaddr == 0xffffffff81000000);
  CHECK(p.ph[4].p_vaddr == 0xffff888000100000);
  CHECK(p.ph[7].p_vaddr == 0xffff88843f000000);
}

TEST_CASE("elfcorehdr: bad inputs are refused with the value named", "[elfcorehdr]") {
  using crashkit::ErrorCategory;
  auto fails = [](const ElfCoreInputs& in, const char* needle) {
    auto r = build_elf_core_header(in);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::usage);
    CHECK_THAT(r.error().message(), Catch::Contains(needle));
  };
  ElfCoreInputs in = inputs_for(samples::kIomemLowHigh);
  REQUIRE(build_elf_core_header(in));

  auto t = in;
  t.cpu_notes.clear();
  fails(t, "no CPU crash notes");
  t = in;
  t.cpu_notes[1].size = 0;
  fails(t, "CPU note #1 at 0x13fc5e5c0");
  t = in;
  t.page_offset = 0xffff888000001000;
  fails(t, "page_offset 0xffff888000001000");
  t = in;
  t.kernel_text_vaddr = 0xffff888001000000;
  fails(t, "kernel text address 0xffff888001000000");
  t = in;
  t.kernel_text_vaddr = 0xffffffffc0000000; // past the 1 GiB image window
  fails(t, "kernel text address 0xffffffffc0000000");
  t = in;
  std::swap(t.ram[0], t.ram[1]);
  fails(t, "RAM range #1 0x100000-0xaaffffff");
  t = in;
  t.vmcoreinfo.size = 0;
  fails(t, "VMCOREINFO");
}

TEST_CASE("elfcorehdr: subtract_ranges splits and orders", "[elfcorehdr]") {
  const auto r = subtract_ranges({0x1000, 0x9fff}, {{0x8000, 0xffff}, {0x2000, 0x2fff}});
  const std::vector<MemRange> want = {{0x1000, 0x1fff}, {0x3000, 0x7fff}};
  CHECK(r == want);
  CHECK(subtract_ranges({0x1000, 0x1fff}, {{0x0, 0xffff}}).empty());
}
