// VMCOREINFO values used as offsets, sizes, shifts and counts, and PT_NOTE sizes, are bounded by
// what a kernel can produce: a core with one value changed to an impossible one is captured
// without a wild read, the page classes that need the value are kept (the level drops, a warning
// and CaptureStats::level_reasons name the key), and nothing is excluded that should be kept.

#include <catch2/catch.hpp>

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture/stats_json.hpp"
#include "crashkit/capture/vmcore_file.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"
#include "test_dump_reader.hpp"

using namespace crashkit;
using namespace crashkit::capture;
using namespace crashkit::fixtures;
using crashkit::testing::TempDir;
using FxClass = crashkit::fixtures::PageClass;

namespace {

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += x + "\n";
  return s;
}

// A 6.1 core with every page kind, captured at level 31 into a kdump file `out`.
struct Captured {
  VmcoreBuilder b;
  CaptureStats stats;
  std::string out;
};

Captured capture_core(const TempDir& dir, VmcoreSpec spec) {
  spec.era = KernelEra::v6_1;
  spec.cpus = 2;
  auto b = VmcoreBuilder::create(std::move(spec));
  REQUIRE(b);
  REQUIRE(b->fill_mix(5));
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
  return {std::move(b).value(), std::move(r).value(), out};
}

struct Bad {
  const char* key;
  const char* value;
  int level;         // dump level a correct filter achieves from 31
  const char* named; // substring of a warning (and of level_reasons when level < 31)
};

} // namespace

TEST_CASE("capture bounds: an impossible VMCOREINFO value keeps the classes that need it",
          "[capture][bounds]") {
  // 6.1 layout: SIZE(page)=64, flags 0, compound_head 8, compound_dtor/order 16/17, mapping 24,
  // private 40, _mapcount 48; 4-level paging (MAX_PHYSMEM_BITS 46), 128 MiB sections.
  const Bad bad = GENERATE(
      Bad{"OFFSET(page.flags)", "1048576", 1, "OFFSET(page.flags)=1048576"},
      Bad{"OFFSET(page.flags)", "-8", 1, "OFFSET(page.flags)=-8"},
      Bad{"OFFSET(page.compound_head)", "64", 1, "OFFSET(page.compound_head)=64"},
      Bad{"OFFSET(page._mapcount)", "1048576", 31 & ~16, "OFFSET(page._mapcount)=1048576"},
      Bad{"OFFSET(page._mapcount)", "-4", 31 & ~16, "OFFSET(page._mapcount)=-4"},
      Bad{"OFFSET(page.mapping)", "60", 31 & ~(2 | 4 | 8), "OFFSET(page.mapping)=60"},
      Bad{"OFFSET(page.private)", "-8", 31 & ~16, "OFFSET(page.private)=-8"},
      Bad{"OFFSET(page.compound_order)", "4096", 31 & ~8, "OFFSET(page.compound_order)=4096"},
      Bad{"OFFSET(page.compound_dtor)", "64", 31 & ~8, "OFFSET(page.compound_dtor)=64"},
      Bad{"SIZE(page)", "1048576", 1, "SIZE(page)=1048576"},
      Bad{"SIZE(page)", "-64", 1, "SIZE(page)=-64"}, Bad{"SIZE(page)", "16", 1, "SIZE(page)=16"},
      Bad{"NUMBER(PG_lru)", "64", 31 & ~(2 | 4), "NUMBER(PG_lru)=64"},
      Bad{"NUMBER(PG_head_mask)", "3", 31 & ~8, "NUMBER(PG_head_mask)=3"},
      Bad{"LENGTH(zone.free_area)", "100", 31 & ~16, "LENGTH(zone.free_area)=100"},
      Bad{"LENGTH(mem_section)", "1099511627776", 1, "LENGTH(mem_section)=1099511627776"},
      Bad{"NUMBER(MAX_PHYSMEM_BITS)", "20", 1, "MAX_PHYSMEM_BITS"},
      Bad{"NUMBER(MAX_PHYSMEM_BITS)", "99", 1, "MAX_PHYSMEM_BITS"},
      Bad{"NUMBER(MAX_PHYSMEM_BITS)", "40", 1, "MAX_PHYSMEM_BITS"},
      Bad{"NUMBER(MAX_PHYSMEM_BITS)", "52", 1, "MAX_PHYSMEM_BITS"},
      Bad{"NUMBER(SECTION_SIZE_BITS)", "13", 1, "NUMBER(SECTION_SIZE_BITS)=13"},
      Bad{"NUMBER(SECTION_SIZE_BITS)", "-1", 1, "NUMBER(SECTION_SIZE_BITS)=-1"},
      Bad{"NUMBER(PG_hwpoison)", "99", 31, "NUMBER(PG_hwpoison)=99"});
  CAPTURE(bad.key, bad.value);
  TempDir dir;
  VmcoreSpec spec;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}, {0x100000, 0x400}};
  spec.vmcoreinfo_overrides = {{bad.key, bad.value}};
  Captured c = capture_core(dir, spec);
  const VmcoreBuilder& b = c.b;
  const CaptureStats& r = c.stats;
  const std::string& out = c.out;
  REQUIRE(b.vmcoreinfo_text().find(std::string(bad.key) + "=" + bad.value + "\n") !=
          std::string::npos);
  const std::string w = joined(r.warnings);
  INFO("warnings: " << w);
  CHECK(w.find(bad.named) != std::string::npos);
  CHECK(r.dump_level == bad.level);
  CHECK(r.requested_dump_level == 31);
  if (bad.level != 31) {
    CHECK(joined(r.level_reasons).find(bad.named) != std::string::npos);
  } else {
    CHECK(r.level_reasons.empty());
  }
  const auto k = testing::KdumpFile::load(out);
  REQUIRE(k.error == "");
  CHECK(k.dump_level == bad.level);

  // Nothing excluded that the achieved level would keep.
  std::uint64_t wrongly_excluded = 0;
  for (const auto& rr : b.ram())
    for (std::uint64_t p = rr.start; p < rr.end(); ++p) {
      if (k.dumpable(p))
        continue;
      const FxClass want = b.expected_class(p, bad.level);
      if (want == FxClass::dumpable || want == FxClass::zero)
        ++wrongly_excluded;
    }
  CHECK(wrongly_excluded == 0);
  // The classes the level still allows are still excluded.
  if (bad.level & 16)
    CHECK(r.excluded.free > 0);
  if (bad.level & 8)
    CHECK(r.excluded.user > 0);
  if (bad.level & 2)
    CHECK(r.excluded.cache > 0);

  // The same reasons in the JSON both front ends write.
  nlohmann::json j;
  add_dump_level_json(j, r);
  CHECK(j["dump_level"] == bad.level);
  CHECK(j["requested_dump_level"] == 31);
  CHECK(j["dump_level_reasons"].size() == r.level_reasons.size());
}

TEST_CASE("capture bounds: aliased PT_NOTE headers cannot multiply what is read",
          "[capture][bounds]") {
  // Each PT_NOTE is within the per-segment bound, all of them point at the same bytes; read
  // one by one they would need headers × size bytes of memory.
  TempDir dir;
  const std::string path = dir.file("aliased");
  constexpr unsigned kNotes = 8;
  constexpr std::uint64_t kNoteSize = 16u << 20;
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = kNotes + 1;
  const std::uint64_t data = 4096;
  std::vector<Elf64_Phdr> ph(kNotes + 1);
  for (unsigned i = 0; i < kNotes; ++i) {
    ph[i].p_type = PT_NOTE;
    ph[i].p_offset = data;
    ph[i].p_filesz = kNoteSize;
  }
  // One page of RAM after the notes, so that nothing else is wrong with the core.
  ph[kNotes].p_type = PT_LOAD;
  ph[kNotes].p_offset = data + kNoteSize;
  ph[kNotes].p_paddr = 0x100000;
  ph[kNotes].p_vaddr = 0xffff888000100000ULL;
  ph[kNotes].p_filesz = ph[kNotes].p_memsz = 4096;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, &eh, sizeof eh, 0) == static_cast<ssize_t>(sizeof eh));
  const auto table = static_cast<ssize_t>(ph.size() * sizeof(Elf64_Phdr));
  REQUIRE(::pwrite(fd, ph.data(), static_cast<std::size_t>(table), sizeof eh) == table);
  REQUIRE(::ftruncate(fd, static_cast<off_t>(data + kNoteSize + 4096)) == 0); // zeros: padding
  ::close(fd);

  auto f = VmcoreFile::open(path);
  REQUIRE_FALSE(f);
  CHECK(f.error().category() == ErrorCategory::data);
  INFO(f.error().message());
  CHECK(f.error().message().find("PT_NOTE segments total") != std::string::npos);
}

TEST_CASE("capture bounds: without NUMBER(MAX_PHYSMEM_BITS) LENGTH(mem_section) tells 44 from 46",
          "[capture][bounds]") {
  // An early x86_64 kernel: 44-bit MAX_PHYSMEM_BITS, not exported; 2^17 sections of 16 bytes,
  // 256 per root, so LENGTH(mem_section)=512. The low sections sit in root 0 either way.
  TempDir dir;
  VmcoreSpec spec;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}};
  spec.drop_keys = {"NUMBER(MAX_PHYSMEM_BITS)"};
  spec.vmcoreinfo_overrides = {{"LENGTH(mem_section)", "512"}};
  Captured c = capture_core(dir, spec);
  const VmcoreBuilder& b = c.b;
  const CaptureStats& r = c.stats;
  INFO("warnings: " << joined(r.warnings));
  CHECK(r.dump_level == 31);
  CHECK(r.warnings.empty());
  CHECK(r.excluded.free == b.expected_counts(31)[FxClass::free]);
}
