// Malformed input: damaged copies of a good synthetic core must be refused by VmcoreFile::open
// and run_capture with a `data` error whose message names where the damage is, and never crash
// or write a dump. Also bad VMCOREINFO values (refused or degraded with a warning), a small
// deterministic fuzz of the header area, and FileSink's refusal to overwrite.

#include <catch2/catch.hpp>

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture/vmcore_file.hpp"
#include "test_dump_reader.hpp"

#include "crashkit/fixtures/malformed.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"

using namespace crashkit;
using namespace crashkit::capture;
using namespace crashkit::fixtures;
using crashkit::testing::ElfCore;
using crashkit::testing::TempDir;
using FxClass = crashkit::fixtures::PageClass;

namespace {

std::string hex(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

VmcoreSpec base_spec() {
  VmcoreSpec spec;
  spec.era = KernelEra::v6_1;
  spec.cpus = 2;
  spec.ram = pc_ram_layout(24ULL << 20); // PT_NOTE, kernel text, 2 RAM PT_LOADs
  return spec;
}

struct Good {
  std::string path;
  ElfCore elf; // parsed by the test's own reader
  std::uint64_t size = 0;
};

Good write_good(const TempDir& dir, VmcoreSpec spec = base_spec(), bool mix = false) {
  auto b = VmcoreBuilder::create(std::move(spec));
  REQUIRE(b);
  if (mix)
    REQUIRE(b->fill_mix(2));
  Good g{dir.file("good"), {}, 0};
  REQUIRE(b->write(g.path));
  g.elf = ElfCore::load(g.path);
  REQUIRE(g.elf.error == "");
  REQUIRE(g.elf.phdrs.size() == 4);
  REQUIRE(g.elf.phdrs[0].type == PT_NOTE);
  g.size = g.elf.bytes.size();
  return g;
}

std::string copy_of(const TempDir& dir, const Good& g, const std::string& name) {
  const std::string p = dir.file(name);
  std::filesystem::copy_file(g.path, p, std::filesystem::copy_options::overwrite_existing);
  return p;
}

// Both entry points refuse the file with a data error containing every substring; run_capture
// writes nothing.
void expect_refused(const TempDir& dir, const std::string& path,
                    const std::vector<std::string>& substrings) {
  auto f = VmcoreFile::open(path);
  REQUIRE_FALSE(f);
  const std::string msg = f.error().message();
  INFO("message: " << msg);
  CHECK(f.error().category() == ErrorCategory::data);
  CHECK(msg.find(path) != std::string::npos);
  for (const auto& s : substrings) {
    CAPTURE(s);
    CHECK(msg.find(s) != std::string::npos);
  }

  const std::string out = dir.file("out");
  std::filesystem::remove(out);
  std::filesystem::remove(out + ".incomplete");
  auto sink = FileSink::create(out, false);
  REQUIRE(sink);
  CaptureRequest req;
  req.vmcore = path;
  req.threads = 1;
  auto r = run_capture(req, **sink, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().category() == ErrorCategory::data);
  CHECK(r.error().message() == msg);
  CHECK((*sink)->bytes_written() == 0);
  CHECK_FALSE(testing::file_exists(out));
}

} // namespace

TEST_CASE("capture malformed: truncated cores name the segment and its offset",
          "[capture][malformed]") {
  TempDir dir;
  const Good g = write_good(dir);
  const auto& ph = g.elf.phdrs;

  SECTION("cut in the middle of the page data") {
    const std::uint64_t cut = g.size / 2;
    // The first program header (file order) whose data no longer fits.
    std::size_t idx = 0;
    while (idx < ph.size() && ph[idx].offset + ph[idx].filesz <= cut)
      ++idx;
    REQUIRE(idx < ph.size());
    const std::string p = copy_of(dir, g, "half");
    REQUIRE(truncate_core(p, cut));
    expect_refused(dir, p,
                   {"PT_LOAD #" + std::to_string(idx) + " at offset " + hex(ph[idx].offset),
                    "truncated", hex(cut)});
  }
  SECTION("cut one byte short") {
    const std::string p = copy_of(dir, g, "short");
    REQUIRE(truncate_core(p, g.size - 1));
    expect_refused(dir, p, {"PT_LOAD #3 at offset " + hex(ph[3].offset), "truncated"});
  }
  SECTION("cut inside the notes") {
    const std::string p = copy_of(dir, g, "notes");
    REQUIRE(truncate_core(p, ph[0].offset + ph[0].filesz / 2));
    expect_refused(dir, p, {"PT_NOTE #0 at offset " + hex(ph[0].offset)});
  }
  SECTION("cut inside the program headers") {
    const std::string p = copy_of(dir, g, "phdrs");
    REQUIRE(truncate_core(p, 64 + 56 + 20));
    expect_refused(dir, p, {"program headers", "offset 0x40", "past the end of the file"});
  }
  SECTION("cut inside the ELF header") {
    const std::string p = copy_of(dir, g, "ehdr");
    REQUIRE(truncate_core(p, 40));
    expect_refused(dir, p, {"offset 0x"});
  }
  SECTION("cut inside e_ident") {
    const std::string p = copy_of(dir, g, "ident");
    REQUIRE(truncate_core(p, 10));
    expect_refused(dir, p, {"offset 0xa", "truncated"});
  }
  SECTION("empty file") {
    const std::string p = copy_of(dir, g, "empty");
    REQUIRE(truncate_core(p, 0));
    expect_refused(dir, p, {"not an ELF file", "offset 0"});
  }
}

TEST_CASE("capture malformed: program header damage is refused with the offset",
          "[capture][malformed]") {
  TempDir dir;
  const Good g = write_good(dir);
  const auto& ph = g.elf.phdrs;

  SECTION("absurd e_phnum") {
    const std::string p = copy_of(dir, g, "phnum");
    REQUIRE(corrupt_phnum(p, 0xfff0));
    expect_refused(dir, p, {"65520", "offset 0x40", "overlaps", "corrupt e_phnum"});
  }
  SECTION("e_phnum 0") {
    const std::string p = copy_of(dir, g, "phnum0");
    REQUIRE(corrupt_phnum(p, 0));
    expect_refused(dir, p, {"program headers"});
  }
  SECTION("p_filesz past EOF") {
    const std::string p = copy_of(dir, g, "filesz");
    REQUIRE(corrupt_phdr_filesz(p, 2, 1ULL << 60));
    expect_refused(
        dir, p,
        {"PT_LOAD #2 at offset " + hex(ph[2].offset), hex(1ULL << 60), "past the end of the file"});
  }
  SECTION("p_filesz and p_memsz one page past EOF") {
    const std::string p = copy_of(dir, g, "filesz-memsz");
    REQUIRE(corrupt_phdr_filesz(p, 3, ph[3].filesz + 4096, true));
    expect_refused(dir, p, {"PT_LOAD #3 at offset " + hex(ph[3].offset), "truncated"});
  }
  SECTION("p_filesz larger than p_memsz") {
    const std::string p = copy_of(dir, g, "filesz-gt-memsz");
    REQUIRE(corrupt_phdr_filesz(p, 2, ph[2].memsz + 4096));
    expect_refused(dir, p, {"PT_LOAD #2 at offset " + hex(ph[2].offset), "p_memsz"});
  }
  SECTION("p_offset + p_filesz overflows") {
    const std::string p = copy_of(dir, g, "overflow");
    REQUIRE(corrupt_phdr_offset(p, 2, ~0ULL - 100));
    expect_refused(dir, p, {"PT_LOAD #2 at offset " + hex(~0ULL - 100)});
  }
  SECTION("p_offset past EOF") {
    const std::string p = copy_of(dir, g, "offset");
    REQUIRE(corrupt_phdr_offset(p, 3, g.size + 4096));
    expect_refused(dir, p, {"PT_LOAD #3 at offset " + hex(g.size + 4096)});
  }
  SECTION("RAM segments overlapping partially") {
    const std::string p = copy_of(dir, g, "overlap");
    // Move RAM range 1 to start in the middle of range 0.
    const std::uint64_t paddr = ph[2].paddr + ph[2].memsz / 2;
    const auto* b = reinterpret_cast<const std::uint8_t*>(&paddr);
    REQUIRE(corrupt_bytes(p, 64 + 3 * 56 + offsetof(Elf64_Phdr, p_paddr), {b, 8}));
    expect_refused(dir, p, {"overlap", hex(paddr)});
  }
  SECTION("no PT_LOAD at all") {
    const std::string p = copy_of(dir, g, "noload");
    const std::uint8_t null_type[4] = {0, 0, 0, 0};
    for (unsigned i = 1; i < 4; ++i)
      REQUIRE(corrupt_bytes(p, 64 + i * 56, null_type));
    expect_refused(dir, p, {"PT_LOAD"});
  }
}

TEST_CASE("capture malformed: broken notes are refused naming the note's file offset",
          "[capture][malformed]") {
  TempDir dir;
  const Good g = write_good(dir);
  const std::uint64_t note0 = g.elf.phdrs[0].offset;

  // Offsets of the three notes (CORE, CORE, VMCOREINFO), walked by hand.
  std::vector<std::uint64_t> at;
  for (std::uint64_t o = note0; o + 12 <= note0 + g.elf.phdrs[0].filesz && at.size() < 3;) {
    at.push_back(o);
    const std::uint64_t nsz = testing::rd32(g.elf.bytes, o),
                        dsz = testing::rd32(g.elf.bytes, o + 4);
    o += 12 + ((nsz + 3) & ~3ULL) + ((dsz + 3) & ~3ULL);
  }
  REQUIRE(at.size() == 3);

  SECTION("huge n_namesz") {
    const std::string p = copy_of(dir, g, "namesz");
    REQUIRE(corrupt_note_namesz(p, 1, 0xfffffff0U));
    expect_refused(dir, p, {"note", "offset " + hex(at[1])});
  }
  SECTION("n_descsz past the segment") {
    const std::string p = copy_of(dir, g, "descsz");
    REQUIRE(corrupt_note_descsz(p, 2, 0x100000));
    expect_refused(dir, p, {"note", "offset " + hex(at[2])});
  }
  SECTION("first note broken") {
    const std::string p = copy_of(dir, g, "descsz0");
    REQUIRE(corrupt_note_descsz(p, 0, 0xffffff00U));
    expect_refused(dir, p, {"note", "offset " + hex(at[0])});
  }
  SECTION("absurd PT_NOTE size") {
    const std::string p = copy_of(dir, g, "notesz");
    REQUIRE(corrupt_phdr_filesz(p, 0, 1ULL << 40));
    expect_refused(dir, p, {"PT_NOTE #0 at offset " + hex(note0)});
  }
}

TEST_CASE("capture malformed: not an ELF64 little-endian core", "[capture][malformed]") {
  TempDir dir;
  const Good g = write_good(dir);

  SECTION("bad magic") {
    const std::string p = copy_of(dir, g, "magic");
    const std::uint8_t junk[4] = {'J', 'U', 'N', 'K'};
    REQUIRE(corrupt_bytes(p, 0, junk));
    expect_refused(dir, p, {"not an ELF file", "offset 0"});
  }
  SECTION("a text file") {
    const std::string p = dir.file("text");
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const std::string t = "this is not a vmcore\n";
    REQUIRE(::write(fd, t.data(), t.size()) == static_cast<ssize_t>(t.size()));
    ::close(fd);
    expect_refused(dir, p, {"not an ELF file"});
  }
  SECTION("ELF32") {
    const std::string p = copy_of(dir, g, "elf32");
    const std::uint8_t cls[1] = {ELFCLASS32};
    REQUIRE(corrupt_bytes(p, EI_CLASS, cls));
    expect_refused(dir, p, {"ELF64", "EI_CLASS"});
  }
  SECTION("big-endian") {
    const std::string p = copy_of(dir, g, "msb");
    const std::uint8_t data[1] = {ELFDATA2MSB};
    REQUIRE(corrupt_bytes(p, EI_DATA, data));
    expect_refused(dir, p, {"big-endian"});
  }
  SECTION("not ET_CORE") {
    const std::string p = copy_of(dir, g, "exec");
    const std::uint8_t type[2] = {ET_EXEC, 0};
    REQUIRE(corrupt_bytes(p, 16, type));
    expect_refused(dir, p, {"ET_CORE"});
  }
}

TEST_CASE("capture malformed: missing input is a no_input error", "[capture][malformed]") {
  TempDir dir;
  auto f = VmcoreFile::open(dir.file("absent"));
  REQUIRE_FALSE(f);
  CHECK(f.error().category() == ErrorCategory::no_input);
  CHECK(f.error().message().find(dir.file("absent")) != std::string::npos);
}

TEST_CASE("capture malformed: an impossible PAGESIZE is refused", "[capture][malformed]") {
  TempDir dir;
  SECTION("PAGESIZE that no kernel uses") {
    VmcoreSpec spec = base_spec();
    spec.vmcoreinfo_overrides = {{"PAGESIZE", "12345"}};
    const Good g = write_good(dir, spec);
    const std::string out = dir.file("out");
    auto sink = FileSink::create(out, false);
    REQUIRE(sink);
    CaptureRequest req;
    req.vmcore = g.path;
    req.threads = 1;
    auto r = run_capture(req, **sink, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == ErrorCategory::data);
    CHECK(r.error().message().find("PAGESIZE=12345") != std::string::npos);
  }
}

TEST_CASE("capture malformed: unusable SPARSEMEM or page-table keys degrade to zero pages only",
          "[capture][malformed]") {
  TempDir dir;
  struct Bad {
    const char* key;
    const char* value;
    const char* warning; // substring of a warning
  };
  const Bad bad = GENERATE(Bad{"NUMBER(SECTION_SIZE_BITS)", "99", "SPARSEMEM"},
                           Bad{"SIZE(mem_section)", "0", "SPARSEMEM"},
                           Bad{"SYMBOL(mem_section)", "ffffffffdead0000", "mem_section"},
                           Bad{"SYMBOL(init_top_pgt)", "1000", "init_top_pgt"});
  {
    CAPTURE(bad.key, bad.value);
    VmcoreSpec spec = base_spec();
    spec.vmcoreinfo_overrides = {{bad.key, bad.value}};
    auto b = VmcoreBuilder::create(spec);
    REQUIRE(b);
    REQUIRE(b->fill_mix(3));
    const std::string core = dir.file("core");
    REQUIRE(b->write(core));
    const std::string out = dir.file("out");
    auto sink = FileSink::create(out, false);
    REQUIRE(sink);
    CaptureRequest req;
    req.vmcore = core;
    req.threads = 1;
    req.compression = Compression::none;
    auto r = run_capture(req, **sink, {});
    if (!r)
      FAIL(r.error().message());
    REQUIRE((*sink)->finish());
    std::string w;
    for (const auto& s : r->warnings)
      w += s + "\n";
    INFO("warnings: " << w);
    CHECK(w.find(bad.warning) != std::string::npos);
    CHECK(r->dump_level == 1);
    CHECK(r->excluded.total() == r->excluded.zero);
    const auto k = testing::KdumpFile::load(out);
    REQUIRE(k.error == "");
    std::uint64_t bad_pages = 0;
    for (const auto& rr : b->ram())
      for (std::uint64_t p = rr.start; p < rr.end(); ++p)
        if (!k.dumpable(p))
          ++bad_pages;
    CHECK(bad_pages == 0);
    CHECK(r->excluded.zero == b->expected_counts(1)[FxClass::zero]);
  }
}

TEST_CASE("capture malformed: random damage to headers and notes never crashes",
          "[capture][malformed][fuzz]") {
  TempDir dir;
  const Good g = write_good(dir, base_spec(), true);
  const std::uint64_t area = g.elf.phdrs[0].offset + g.elf.phdrs[0].filesz;
  std::uint64_t rng = 0x9e3779b97f4a7c15ULL;
  auto next = [&] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  int opened = 0, captured = 0, refused = 0;
  for (int iter = 0; iter < 120; ++iter) {
    CAPTURE(iter);
    const std::string p = copy_of(dir, g, "fuzz");
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int i = 0; i < flips; ++i) {
      // Mostly the ELF header and program headers, sometimes the notes (VMCOREINFO text).
      const std::uint64_t off = (next() & 1) ? next() % 344 : next() % area;
      const std::uint8_t v[1] = {static_cast<std::uint8_t>(next())};
      REQUIRE(corrupt_bytes(p, off, v));
    }
    auto f = VmcoreFile::open(p);
    if (!f) {
      ++refused;
      CHECK(f.error().category() == ErrorCategory::data);
      continue;
    }
    ++opened;
    // A flipped high byte of p_paddr can legitimately ask for bitmaps of gigabytes (the format
    // sizes them by the highest PFN); that is slow, not wrong, so leave those out.
    std::uint64_t max_end = 0;
    for (const auto& l : (*f)->loads())
      max_end = std::max(max_end, l.paddr + l.memsz);
    if (max_end > (64ULL << 30) || captured >= 25)
      continue; // keep the run short
    ++captured;
    const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    FlatSink sink(fd, "/dev/null");
    CaptureRequest req;
    req.vmcore = p;
    req.threads = 2;
    req.compression = Compression::lzo;
    auto r = run_capture(req, sink, {});
    ::close(fd);
    if (!r)
      CHECK(r.error().category() != ErrorCategory::internal);
  }
  CHECK(refused > 0);
  CHECK(opened > 0);
}

TEST_CASE("capture malformed: FileSink refuses an existing output without force",
          "[capture][malformed][sink]") {
  TempDir dir;
  const std::string out = dir.file("existing");
  {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(::write(fd, "keep", 4) == 4);
    ::close(fd);
  }
  auto s = FileSink::create(out, false);
  REQUIRE_FALSE(s);
  CHECK(s.error().category() == ErrorCategory::exists);
  CHECK(exit_code_for(s.error().category()) == 73);
  CHECK(s.error().message().find(out) != std::string::npos);
  CHECK(testing::read_file(out) == std::vector<std::uint8_t>{'k', 'e', 'e', 'p'});
  CHECK_FALSE(testing::file_exists(out + ".incomplete"));

  // A leftover .incomplete of an earlier run is ours to replace.
  {
    const int fd = ::open((out + "2.incomplete").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(::write(fd, "old partial dump", 16) == 16);
    ::close(fd);
    auto s2 = FileSink::create(out + "2", false);
    REQUIRE(s2);
    REQUIRE((*s2)->write_at(0, "new", 3));
    REQUIRE((*s2)->finish());
    CHECK(testing::read_file(out + "2") == std::vector<std::uint8_t>{'n', 'e', 'w'});
  }

  auto f = FileSink::create(out, true);
  REQUIRE(f);
  REQUIRE((*f)->write_at(8192, "x", 1));
  REQUIRE((*f)->write_at(0, "ab", 2));
  CHECK((*f)->bytes_written() == 3);
  // The old file stays until finish() renames the new one over it.
  CHECK(testing::read_file(out).size() == 4);
  REQUIRE((*f)->finish());
  const auto got = testing::read_file(out);
  REQUIRE(got.size() == 8193);
  CHECK(got[0] == 'a');
  CHECK(got[1] == 'b');
  CHECK(got[8192] == 'x');
  CHECK(got[100] == 0);
}
