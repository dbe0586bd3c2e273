// Round trips: a synthetic core is dumped by run_capture() in every format and compression, and
// the result is read back with the independent readers of test_dump_reader.hpp. Every dumpable
// page must come back byte-equal to what the fixture builder wrote, excluded pages must be
// absent (kdump) or outside p_filesz (ELF, long runs), and the headers must carry what crash
// checks. Also: identical-page sharing, deterministic output across thread counts, and the
// flattened stream and its reassembly.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "crashkit/capture/capture_job.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "test_dump_reader.hpp"

#include "crashkit/fixtures/malformed.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"

using namespace crashkit;
using namespace crashkit::capture;
using crashkit::fixtures::KernelEra;
using crashkit::fixtures::PageKind;
using crashkit::fixtures::VmcoreBuilder;
using crashkit::fixtures::VmcoreSpec;
using crashkit::testing::ElfCore;
using crashkit::testing::FlatStream;
using crashkit::testing::KdumpFile;
using crashkit::testing::TempDir;
using FxClass = crashkit::fixtures::PageClass;

namespace {

constexpr std::uint64_t kB = 4096;

struct Core {
  VmcoreBuilder b;
  std::string path;
  std::vector<std::uint8_t> notes;         // the input's PT_NOTE bytes
  std::vector<std::uint64_t> dup_a, dup_b; // pfns sharing one content (two groups)
  std::vector<std::uint8_t> dup_a_bytes;
};

std::vector<std::uint8_t> pattern(std::uint8_t seed) {
  std::vector<std::uint8_t> p(kB);
  for (std::size_t i = 0; i < p.size(); ++i)
    p[i] = static_cast<std::uint8_t>((i * 131 + seed * 7) ^ (i >> 5));
  return p;
}

// 24 MiB low + 4 MiB at 4 GiB, every page kind, and two groups of identical pages spread over
// distant pfns (so they land in different pipeline batches).
Core make_core(const TempDir& dir, KernelEra era = KernelEra::v6_1, int levels = 4,
               std::uint64_t seed = 3) {
  VmcoreSpec spec;
  spec.era = era;
  spec.paging_levels = levels;
  spec.cpus = 3;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}, {0x100000, 0x400}};
  auto b = VmcoreBuilder::create(spec);
  REQUIRE(b);
  Core c{std::move(b).value(), dir.file("vmcore"), {}, {}, {}, {}};
  c.dup_a_bytes = pattern(1);
  const auto dup_b_bytes = pattern(2);
  // Candidates in order; the builder's own (reserved) pages are skipped.
  auto put = [&](std::vector<std::uint64_t> cands, std::size_t want,
                 const std::vector<std::uint8_t>& bytes, std::vector<std::uint64_t>& into) {
    for (std::uint64_t pfn : cands) {
      if (into.size() == want)
        break;
      if (c.b.is_reserved(pfn) || !c.b.set_page(pfn, PageKind::kernel_data))
        continue;
      REQUIRE(c.b.set_content(pfn, bytes));
      into.push_back(pfn);
    }
    REQUIRE(into.size() == want);
  };
  put({0x300, 0x301, 0x900, 0x1500, 0x100010, 0x100200, 0x1003f0, 0x1501, 0x902, 0x310, 0x1600,
       0x1601, 0x1602},
      5, c.dup_a_bytes, c.dup_a);
  put({0x400, 0x1400, 0x1300, 0x1200, 0x1100, 0x1000, 0x700, 0x600}, 2, dup_b_bytes, c.dup_b);
  REQUIRE(c.b.fill_mix(seed));
  REQUIRE(c.b.write(c.path));
  const ElfCore in = ElfCore::load(c.path);
  REQUIRE(in.error == "");
  for (const auto& p : in.phdrs)
    if (p.type == 4)
      c.notes.insert(c.notes.end(), in.bytes.begin() + p.offset,
                     in.bytes.begin() + p.offset + p.filesz);
  REQUIRE(!c.notes.empty());
  return c;
}

struct Run {
  CaptureStats stats;
  std::string out;
};

Run capture_to(const std::string& out, const std::string& core, int level, DumpFormat fmt,
               Compression c, unsigned threads = 2, bool dedup = true) {
  std::filesystem::remove(out);
  auto sink = FileSink::create(out, false);
  REQUIRE(sink);
  CaptureRequest req;
  req.vmcore = core;
  req.dump_level = level;
  req.format = fmt;
  req.compression = c;
  req.threads = threads;
  req.dedup = dedup;
  auto st = run_capture(req, **sink, {});
  if (!st)
    FAIL("run_capture: " << st.error().message());
  // Until finish() the dump exists only under its .incomplete name.
  CHECK_FALSE(testing::file_exists(out));
  CHECK(testing::file_exists(out + ".incomplete"));
  REQUIRE((*sink)->finish());
  CHECK(testing::file_exists(out));
  CHECK_FALSE(testing::file_exists(out + ".incomplete"));
  return {std::move(st).value(), out};
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) {
  return (a + b - 1) / b;
}

// Header fields crash and libkdumpfile rely on (notes 1.2, 1.5, 1.13).
void check_kdump_header(const KdumpFile& k, const Core& c, int level, Compression comp) {
  const VmcoreBuilder& b = c.b;
  CHECK(k.signature == "KDUMP   ");
  CHECK(k.header_version == 6);
  CHECK(k.block_size == 4096);
  CHECK(k.uts[0] == "Linux");
  CHECK(k.uts[1] == "crashkit-fixture");
  CHECK(k.uts[2] == b.spec().osrelease);
  CHECK(k.uts[3] == std::string(b.era().uts_version));
  CHECK(k.uts[4] == "x86_64");
  CHECK(k.timestamp_sec == b.spec().crashtime);
  CHECK((k.status & 0x08) == 0); // not incomplete
  CHECK((k.status & 0x10) == 0); // no -e
  CHECK((k.status & ~0x08u & ~0x10u) == kdump_flag(comp));
  CHECK(k.nr_cpus == b.spec().cpus);
  const std::uint64_t max_pfn = b.ram().back().end();
  CHECK(k.max_mapnr_64 == max_pfn);
  CHECK(k.max_mapnr32 == max_pfn);
  CHECK(k.bitmap_blocks == 2 * ceil_div(ceil_div(max_pfn, 8), kB));
  CHECK(k.sub_hdr_size == static_cast<std::int32_t>(ceil_div(104 + c.notes.size(), kB)));
  CHECK(k.phys_base == b.layout().phys_base);
  CHECK(k.dump_level == level);
  CHECK(k.split == 0);
  CHECK(k.start_pfn_64 == 0);
  CHECK(k.end_pfn_64 == 0);
  CHECK(k.offset_eraseinfo == 0);
  CHECK(k.size_eraseinfo == 0);
  // The whole PT_NOTE, verbatim, right after the sub-header.
  CHECK(k.offset_note == kB + 104);
  REQUIRE(k.size_note == c.notes.size());
  CHECK(std::equal(c.notes.begin(), c.notes.end(),
                   k.bytes.begin() + static_cast<long>(k.offset_note)));
  // offset_vmcoreinfo: the VMCOREINFO descriptor text inside that copy.
  const std::string want = b.vmcoreinfo_text();
  REQUIRE(k.size_vmcoreinfo >= want.size());
  CHECK(k.offset_vmcoreinfo > k.offset_note);
  CHECK(k.offset_vmcoreinfo + k.size_vmcoreinfo <= k.offset_note + k.size_note);
  CHECK(std::string(k.bytes.begin() + static_cast<long>(k.offset_vmcoreinfo),
                    k.bytes.begin() + static_cast<long>(k.offset_vmcoreinfo + want.size())) ==
        want);
  // Bitmap 2 within bitmap 1, nothing past max_mapnr.
  std::uint64_t bad = 0;
  for (std::uint64_t pfn = 0; pfn < k.bitmap_len * 8; ++pfn) {
    const bool b1 = k.bit(k.bitmap1_off, pfn), b2 = k.bit(k.bitmap2_off, pfn);
    if ((b2 && !b1) || (pfn >= k.max_mapnr_64 && b1))
      ++bad;
  }
  CHECK(bad == 0);
  CHECK(k.desc_off == (1 + static_cast<std::uint64_t>(k.sub_hdr_size) + k.bitmap_blocks) * kB);
}

// Every page of the kdump file against the builder; payload layout sanity.
void check_kdump_pages(const KdumpFile& k, const VmcoreBuilder& b, int level, Compression comp,
                       const CaptureStats& s) {
  std::vector<std::uint8_t> page;
  std::uint64_t bad = 0, compressed = 0;
  std::map<std::int64_t, std::uint32_t> payloads; // offset -> size (shared ones once)
  for (std::uint64_t pfn = 0; pfn < k.max_mapnr_64; ++pfn) {
    if (k.in_ram(pfn) != b.is_ram(pfn)) {
      if (bad++ < 5)
        FAIL_CHECK("pfn " << pfn << ": RAM bit wrong");
      continue;
    }
    if (!b.is_ram(pfn))
      continue;
    const FxClass want = b.expected_class(pfn, level);
    KdumpFile::Desc d{};
    const auto r = k.read_page(pfn, page, &d);
    if (want != FxClass::dumpable && want != FxClass::zero) {
      if (r != KdumpFile::Read::excluded && bad++ < 5)
        FAIL_CHECK("pfn " << pfn << " should be excluded, read " << int(r));
      continue;
    }
    if (r != KdumpFile::Read::ok || page != b.page_content(pfn)) {
      if (bad++ < 5)
        FAIL_CHECK("pfn " << pfn << ": read " << int(r) << ", content differs");
      continue;
    }
    if (want == FxClass::zero) {
      if ((d.offset != static_cast<std::int64_t>(k.data_start) || d.size != kB || d.flags != 0) &&
          bad++ < 5)
        FAIL_CHECK("zero pfn " << pfn << " not on the shared zero page");
      continue;
    }
    if (d.flags != 0) {
      ++compressed;
      if (d.flags != kdump_flag(comp) && bad++ < 5)
        FAIL_CHECK("pfn " << pfn << ": flags " << d.flags);
    }
    auto [it, fresh] = payloads.emplace(d.offset, d.size);
    if (!fresh && it->second != d.size && bad++ < 5)
      FAIL_CHECK("pfn " << pfn << ": shared size");
  }
  CHECK(bad == 0);
  if (comp == Compression::none)
    CHECK(compressed == 0);
  else
    CHECK(compressed > 0);
  // Payloads: after the descriptors (and the zero page at -d 1), back to back, no overlap.
  std::uint64_t cur = k.data_start + ((level & 1) ? kB : 0);
  if (level & 1) {
    const std::vector<std::uint8_t> zero_page(k.bytes.begin() + static_cast<long>(k.data_start),
                                              k.bytes.begin() +
                                                  static_cast<long>(k.data_start + kB));
    CHECK(testing::all_zero(zero_page));
  }
  std::uint64_t gaps = 0;
  for (const auto& [off, size] : payloads) {
    if (static_cast<std::uint64_t>(off) != cur)
      ++gaps;
    cur = static_cast<std::uint64_t>(off) + size;
  }
  CHECK(gaps == 0);
  CHECK(k.bytes.size() == cur);
  CHECK(s.bytes_written == cur);
  CHECK(s.written_pages == payloads.size());
  CHECK(s.dumped_pages == k.num_dumpable);
}

} // namespace

TEST_CASE("capture roundtrip: kdump pages read back byte-equal for every compression",
          "[capture][roundtrip]") {
  const Compression comp = GENERATE(Compression::zstd, Compression::zlib, Compression::lzo,
                                    Compression::snappy, Compression::none);
  CAPTURE(compression_name(comp));
  TempDir dir;
  const Core c = make_core(dir);
  for (int level : {31, 0, 1}) {
    CAPTURE(level);
    const Run r = capture_to(dir.file("dump"), c.path, level, DumpFormat::kdump, comp);
    const KdumpFile k = KdumpFile::load(r.out);
    REQUIRE(k.error == "");
    check_kdump_header(k, c, level, comp);
    check_kdump_pages(k, c.b, level, comp, r.stats);
    CHECK(r.stats.dump_level == level);
  }
}

TEST_CASE("capture roundtrip: kdump headers for other eras and 5-level paging",
          "[capture][roundtrip]") {
  struct Cfg {
    KernelEra era;
    int levels;
  };
  const Cfg cfg =
      GENERATE(Cfg{KernelEra::v5_10, 4}, Cfg{KernelEra::v6_10, 5}, Cfg{KernelEra::v6_12, 5});
  CAPTURE(static_cast<int>(cfg.era), cfg.levels);
  TempDir dir;
  const Core c = make_core(dir, cfg.era, cfg.levels, 9);
  const Run r = capture_to(dir.file("dump"), c.path, 31, DumpFormat::kdump, Compression::zstd);
  const KdumpFile k = KdumpFile::load(r.out);
  REQUIRE(k.error == "");
  check_kdump_header(k, c, 31, Compression::zstd);
  check_kdump_pages(k, c.b, 31, Compression::zstd, r.stats);
}

TEST_CASE("capture roundtrip: identical pages share one payload unless dedup is off",
          "[capture][roundtrip][dedup]") {
  TempDir dir;
  const Core c = make_core(dir);
  const int level = GENERATE(31, 0);
  const Compression comp = GENERATE(Compression::zstd, Compression::none);
  CAPTURE(level, compression_name(comp));
  const Run on = capture_to(dir.file("on"), c.path, level, DumpFormat::kdump, comp, 2, true);
  const Run off = capture_to(dir.file("off"), c.path, level, DumpFormat::kdump, comp, 2, false);
  const KdumpFile kon = KdumpFile::load(on.out), koff = KdumpFile::load(off.out);
  REQUIRE(kon.error == "");
  REQUIRE(koff.error == "");
  check_kdump_pages(kon, c.b, level, comp, on.stats);
  check_kdump_pages(koff, c.b, level, comp, off.stats);

  auto offsets = [](const KdumpFile& k, const std::vector<std::uint64_t>& pfns) {
    std::set<std::int64_t> s;
    for (auto p : pfns) {
      REQUIRE(k.dumpable(p));
      s.insert(k.desc(p).offset);
    }
    return s;
  };
  CHECK(offsets(kon, c.dup_a).size() == 1);
  CHECK(offsets(kon, c.dup_b).size() == 1);
  CHECK(*offsets(kon, c.dup_a).begin() != *offsets(kon, c.dup_b).begin());
  CHECK(offsets(koff, c.dup_a).size() == c.dup_a.size());
  CHECK(offsets(koff, c.dup_b).size() == c.dup_b.size());

  // The shared payload is the first page's; no other page of the dump points at it.
  std::uint64_t users = 0;
  const std::int64_t a_off = *offsets(kon, c.dup_a).begin();
  for (std::uint64_t pfn = 0; pfn < kon.max_mapnr_64; ++pfn)
    if (kon.dumpable(pfn) && kon.desc(pfn).offset == a_off)
      ++users;
  CHECK(users == c.dup_a.size());

  const std::uint64_t dup_pages = (c.dup_a.size() - 1) + (c.dup_b.size() - 1);
  CHECK(on.stats.shared_pages >= dup_pages);
  CHECK(off.stats.shared_pages == 0);
  CHECK(on.stats.written_pages + on.stats.shared_pages == off.stats.written_pages);
  CHECK(kon.bytes.size() < koff.bytes.size());
  // Exactly the pages whose content occurred before (the builder's own metadata pages repeat
  // too) are shared; the bounded table may only ever miss some.
  std::set<std::vector<std::uint8_t>> seen;
  std::uint64_t repeats = 0;
  for (const auto& rr : c.b.ram())
    for (std::uint64_t p = rr.start; p < rr.end(); ++p) {
      const FxClass cls = c.b.expected_class(p, level);
      if (cls != FxClass::dumpable)
        continue;
      if (!seen.insert(c.b.page_content(p)).second)
        ++repeats;
    }
  CHECK(on.stats.shared_pages <= repeats);
  CHECK(on.stats.shared_pages + 16 >= repeats);
}

TEST_CASE("capture roundtrip: output is byte-identical for 1 2 and 3 threads",
          "[capture][roundtrip][threads]") {
  TempDir dir;
  const Core c = make_core(dir);
  struct Cfg {
    int level;
    Compression comp;
    DumpFormat fmt;
  };
  const Cfg cfg = GENERATE(
      Cfg{31, Compression::zstd, DumpFormat::kdump}, Cfg{0, Compression::lzo, DumpFormat::kdump},
      Cfg{1, Compression::zlib, DumpFormat::kdump}, Cfg{31, Compression::none, DumpFormat::elf});
  CAPTURE(cfg.level, compression_name(cfg.comp), static_cast<int>(cfg.fmt));
  std::vector<std::uint8_t> first;
  for (unsigned t : {1u, 2u, 3u}) {
    CAPTURE(t);
    const Run r =
        capture_to(dir.file("t" + std::to_string(t)), c.path, cfg.level, cfg.fmt, cfg.comp, t);
    auto bytes = testing::read_file(r.out);
    REQUIRE(!bytes.empty());
    if (first.empty())
      first = std::move(bytes);
    else
      CHECK((bytes == first));
  }
}

TEST_CASE("capture roundtrip: filtered ELF keeps dumpable pages and drops long excluded runs",
          "[capture][roundtrip][elf]") {
  TempDir dir;
  VmcoreSpec spec;
  spec.era = KernelEra::v6_10;
  spec.cpus = 2;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}, {0x100000, 0x400}};
  auto bb = VmcoreBuilder::create(spec);
  REQUIRE(bb);
  VmcoreBuilder& b = *bb;
  // Long excluded runs: a 1024-page free block and a 512-page hugetlb page, and 300 zero pages.
  auto place = [&](std::uint64_t from, std::uint64_t to, PageKind k, std::uint32_t order) {
    const std::uint64_t n = 1ULL << order;
    for (std::uint64_t p = (from + n - 1) / n * n; p + n <= to; p += n)
      if (b.set_page(p, k, order))
        return p;
    FAIL("no room");
    return std::uint64_t{0};
  };
  place(0x100, 0x1800, PageKind::free_buddy, 10);
  place(0x100, 0x1800, PageKind::hugetlb, 9);
  const std::uint64_t z = place(0x100, 0x1800, PageKind::zero, 8);
  place(z + 256, 0x1800, PageKind::zero, 5);
  REQUIRE(b.fill_mix(4));
  const std::string path = dir.file("vmcore");
  REQUIRE(b.write(path));
  const ElfCore in = ElfCore::load(path);
  REQUIRE(in.error == "");

  for (int level : {31, 1, 0}) {
    CAPTURE(level);
    const Run r = capture_to(dir.file("elf"), path, level, DumpFormat::elf, Compression::none);
    const ElfCore e = ElfCore::load(r.out);
    REQUIRE(e.error == "");
    CHECK(e.e_type == 4);
    CHECK(e.e_machine == 62);
    CHECK((e.e_flags & 1) == 0); // DUMP_ELF_INCOMPLETE cleared
    REQUIRE(!e.phdrs.empty());
    CHECK(e.phdrs[0].type == 4);
    // The notes, verbatim.
    const auto& inote =
        *std::find_if(in.phdrs.begin(), in.phdrs.end(), [](const auto& p) { return p.type == 4; });
    REQUIRE(e.phdrs[0].filesz == inote.filesz);
    CHECK(std::equal(in.bytes.begin() + static_cast<long>(inote.offset),
                     in.bytes.begin() + static_cast<long>(inote.offset + inote.filesz),
                     e.bytes.begin() + static_cast<long>(e.phdrs[0].offset)));
    // The kernel-text alias keeps its virtual address and reads the same bytes.
    std::uint64_t alias_in = 0, alias_out = 0;
    for (const auto& p : in.phdrs)
      if (p.type == 1 && p.vaddr >= 0xffffffff80000000ULL)
        alias_in = p.vaddr;
    for (const auto& p : e.phdrs)
      if (p.type == 1 && p.vaddr >= 0xffffffff80000000ULL)
        alias_out = p.vaddr;
    CHECK(alias_in != 0);
    CHECK(alias_out == alias_in);
    // Physical coverage (p_memsz) is exactly RAM; data is page aligned.
    std::uint64_t covered = 0;
    for (const auto& p : e.phdrs)
      if (p.type == 1 && p.vaddr < 0xffffffff80000000ULL) {
        covered += p.memsz / kB;
        if (p.filesz)
          CHECK(p.offset % kB == 0);
      }
    CHECK(covered == b.ram_pages());

    std::vector<std::uint8_t> page, run_page;
    std::uint64_t bad = 0, dropped = 0, file_pages = 0;
    for (const auto& rr : b.ram()) {
      std::uint64_t run = 0;
      std::vector<std::uint64_t> run_pfns;
      auto end_run = [&] {
        // Runs of >= 256 excluded pages must not be in the file.
        if (run >= 256)
          for (auto p : run_pfns) {
            if (e.page(p, run_page) != ElfCore::Where::memsz_only && bad++ < 5)
              FAIL_CHECK("pfn " << p << " of a long excluded run is in the file");
            ++dropped;
          }
        run = 0;
        run_pfns.clear();
      };
      for (std::uint64_t pfn = rr.start; pfn < rr.end(); ++pfn) {
        const FxClass want = b.expected_class(pfn, level);
        const auto where = e.page(pfn, page);
        if (where == ElfCore::Where::absent) {
          if (bad++ < 5)
            FAIL_CHECK("RAM pfn " << pfn << " not covered");
          continue;
        }
        if (where == ElfCore::Where::file)
          ++file_pages;
        if (want == FxClass::dumpable) {
          end_run();
          if ((where != ElfCore::Where::file || page != b.page_content(pfn)) && bad++ < 5)
            FAIL_CHECK("dumpable pfn " << pfn << " missing or different");
          continue;
        }
        ++run;
        run_pfns.push_back(pfn);
        // Excluded: either outside p_filesz (reads zero) or a short run kept with its content.
        if (where == ElfCore::Where::memsz_only ? !testing::all_zero(page)
                                                : page != b.page_content(pfn)) {
          if (bad++ < 5)
            FAIL_CHECK("excluded pfn " << pfn << " reads wrong bytes");
        }
      }
      end_run();
    }
    CHECK(bad == 0);
    if (level == 31)
      CHECK(dropped > 1024 + 512 + 256);
    if (level == 0)
      CHECK(dropped == 0);
    // Non-RAM addresses are not covered.
    CHECK(e.page(0, page) == ElfCore::Where::absent);
    CHECK(e.page(0x1800, page) == ElfCore::Where::absent);
    CHECK(e.page(0x100400, page) == ElfCore::Where::absent);
    // Stats: same per-class counts as the kdump writer would report.
    const auto want = b.expected_counts(level);
    CHECK(r.stats.excluded.zero == want[FxClass::zero]);
    CHECK(r.stats.excluded.free == want[FxClass::free]);
    CHECK(r.stats.excluded.user == want[FxClass::user]);
    CHECK(r.stats.excluded.hwpoison == want[FxClass::hwpoison]);
    CHECK(r.stats.excluded.offline == want[FxClass::offline]);
    CHECK(r.stats.ram_pages == b.ram_pages());
    CHECK(r.stats.bytes_written == e.bytes.size());
    // dumped_pages counts the pages with file data in RAM segments (the alias is a copy).
    CHECK(r.stats.dumped_pages == file_pages);
  }
}

TEST_CASE("capture roundtrip: sparse input files and every read mode give the same dump",
          "[capture][roundtrip][sparse]") {
  // Zero pages left as file holes (SEEK_DATA path) must read back as zeros whether they are
  // excluded (-d 1) or kept as data (-d 0), through mmap and pread alike.
  TempDir dir;
  VmcoreSpec spec;
  spec.era = KernelEra::v6_12;
  spec.cpus = 2;
  spec.sparse_file = true;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}, {0x100000, 0x400}};
  auto bb = VmcoreBuilder::create(spec);
  REQUIRE(bb);
  VmcoreBuilder& b = *bb;
  for (std::uint64_t p = 0x800; p < 0x1000; p += 0x200) // some long zero runs
    if (b.set_page(p, PageKind::zero, 9))
      break;
  REQUIRE(b.fill_mix(21));
  const std::string path = dir.file("vmcore");
  REQUIRE(b.write(path));
  REQUIRE(testing::read_file(path).size() == b.file_size());

  for (int level : {0, 1, 31}) {
    CAPTURE(level);
    std::vector<std::uint8_t> first;
    for (ReadMode mode : {ReadMode::automatic, ReadMode::mmap, ReadMode::pread}) {
      CAPTURE(static_cast<int>(mode));
      const std::string out = dir.file("dump");
      std::filesystem::remove(out);
      auto sink = FileSink::create(out, false);
      REQUIRE(sink);
      CaptureRequest req;
      req.vmcore = path;
      req.dump_level = level;
      req.compression = Compression::lzo;
      req.threads = 2;
      req.read_mode = mode;
      std::uint64_t last_done = 0, last_total = 0, calls = 0;
      bool monotonic = true;
      auto st = run_capture(req, **sink, [&](std::uint64_t done, std::uint64_t total) {
        monotonic = monotonic && done >= last_done && done <= total;
        last_done = done;
        last_total = total;
        ++calls;
      });
      if (!st)
        FAIL(st.error().message());
      REQUIRE((*sink)->finish());
      CHECK(calls > 0);
      CHECK(monotonic);
      CHECK(last_done == last_total);
      CHECK(last_total == st->dumped_pages);
      const KdumpFile k = KdumpFile::load(out);
      REQUIRE(k.error == "");
      check_kdump_pages(k, b, level, Compression::lzo, *st);
      if (first.empty())
        first = k.bytes;
      else
        CHECK((k.bytes == first));
    }
  }
}

TEST_CASE("capture roundtrip: a core spanning several filter cycles",
          "[capture][roundtrip][cycles]") {
  // RAM up to 72 GiB of physical address space: the bitmaps cover several PFN cycles, and the
  // kernel image (written first) lives in the last one, so descriptor ranks must be carried
  // across cycles in both phases.
  TempDir dir;
  VmcoreSpec spec;
  spec.era = KernelEra::v6_10;
  spec.cpus = 4;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}, {0x100000, 0x400}, {0x900000, 0x400}, {0x1200000, 0x800}};
  // Kernel image at the start of the top range: __pa(_text) = phys_base + 0x1f000000.
  spec.phys_base = 0x1200000000ULL - 0x1f000000ULL;
  auto bb = VmcoreBuilder::create(spec);
  if (!bb)
    FAIL(bb.error().message());
  VmcoreBuilder& b = *bb;
  REQUIRE(b.layout().kernel_paddr == 0x1200000000ULL);
  REQUIRE(b.fill_mix(8));
  const std::string path = dir.file("vmcore");
  REQUIRE(b.write(path));
  const std::uint64_t max_pfn = 0x1200800;
  REQUIRE(max_pfn > (2ULL << 23)); // more than two cycles of 2^23 PFNs

  std::vector<std::uint8_t> first;
  for (unsigned threads : {1u, 3u}) {
    for (int level : {31, 0}) {
      CAPTURE(threads, level);
      const Run r =
          capture_to(dir.file("dump"), path, level, DumpFormat::kdump, Compression::zstd, threads);
      const KdumpFile k = KdumpFile::load(r.out);
      REQUIRE(k.error == "");
      CHECK(k.max_mapnr_64 == max_pfn);
      CHECK(k.phys_base == spec.phys_base.value());
      CHECK(k.uts[2] == b.spec().osrelease);
      check_kdump_pages(k, b, level, Compression::zstd, r.stats);
      const auto want = b.expected_counts(level);
      CHECK(r.stats.excluded.free == want[FxClass::free]);
      CHECK(r.stats.excluded.user == want[FxClass::user]);
      CHECK(r.stats.excluded.zero == want[FxClass::zero]);
      CHECK(r.stats.ram_pages == b.ram_pages());
      if (level == 31) {
        if (first.empty())
          first = k.bytes;
        else
          CHECK((k.bytes == first));
      }
    }
  }
  // ELF of the same core: per-class counts once per page, however many segments.
  const Run e = capture_to(dir.file("elf"), path, 31, DumpFormat::elf, Compression::none);
  const auto want = b.expected_counts(31);
  CHECK(e.stats.excluded.free == want[FxClass::free]);
  CHECK(e.stats.excluded.zero == want[FxClass::zero]);
  CHECK(e.stats.ram_pages == b.ram_pages());
}

TEST_CASE("capture roundtrip: partial pages at PT_LOAD edges read back zero-filled",
          "[capture][roundtrip][edges]") {
  // Real e820 maps end low RAM at 0x9fc00, so /proc/vmcore's first RAM PT_LOAD is
  // [0x1000, 0x9fc00): its last page is only partly inside. The filter counts such a page as
  // RAM (page_filter.cpp: "its missing bytes read as zero"), so the dump must hold it with the
  // missing bytes zero, not report it unreadable.
  TempDir dir;
  VmcoreSpec spec;
  spec.era = KernelEra::v6_1;
  spec.cpus = 2;
  spec.ram = {{1, 0x9e}, {0x100, 0x1700}, {0x100000, 0x400}};
  auto bb = VmcoreBuilder::create(spec);
  REQUIRE(bb);
  VmcoreBuilder& b = *bb;
  REQUIRE(b.fill_mix(5));
  const std::string good = dir.file("good");
  REQUIRE(b.write(good));
  const ElfCore in = ElfCore::load(good);
  REQUIRE(in.error == "");
  REQUIRE(in.phdrs.size() == 5);
  const auto& low = in.phdrs[2]; // RAM [0x1000, 0x9f000)
  REQUIRE(low.paddr == 0x1000);
  REQUIRE(low.memsz == 0x9e000);

  struct Cut {
    const char* name;
    std::uint64_t filesz, memsz; // new sizes of the low RAM PT_LOAD
    std::uint64_t pfn;           // the partial page
    std::uint64_t valid;         // bytes of it that come from the file
    std::uint64_t head = 0;      // the segment starts this far into its first page
  };
  const Cut cut =
      GENERATE(Cut{"p_filesz < p_memsz", 0x9e000 - 0x100, 0x9e000, 0x9e, 0xf00},
               Cut{"p_memsz ends mid-page", 0x9dc00, 0x9dc00, 0x9e, 0xc00},
               Cut{"p_paddr starts mid-page", 0x9e000 - 0x400, 0x9e000 - 0x400, 1, 0x1000, 0x400});
  CAPTURE(cut.name);
  const std::string path = dir.file("edge");
  std::filesystem::copy_file(good, path);
  REQUIRE(fixtures::corrupt_phdr_filesz(path, 2, cut.memsz, true));
  if (cut.filesz != cut.memsz)
    REQUIRE(fixtures::corrupt_phdr_filesz(path, 2, cut.filesz));
  if (cut.head) {
    REQUIRE(fixtures::corrupt_phdr_offset(path, 2, low.offset + cut.head));
    const std::uint64_t paddr = low.paddr + cut.head;
    const auto* pb = reinterpret_cast<const std::uint8_t*>(&paddr);
    REQUIRE(fixtures::corrupt_bytes(path, 64 + 2 * 56 + 24, {pb, 8}));
  }

  std::vector<std::uint8_t> want = b.page_content(cut.pfn);
  std::fill(want.begin() + static_cast<long>(cut.valid), want.end(), 0);
  std::fill(want.begin(), want.begin() + static_cast<long>(cut.head), 0);
  std::vector<std::uint8_t> page;
  for (DumpFormat fmt : {DumpFormat::kdump, DumpFormat::elf}) {
    CAPTURE(static_cast<int>(fmt));
    const Run r = capture_to(dir.file("dump"), path, 0, fmt, Compression::none);
    CHECK(r.stats.unreadable_pages == 0);
    CHECK(r.stats.ram_pages == b.ram_pages());
    if (fmt == DumpFormat::kdump) {
      const KdumpFile k = KdumpFile::load(r.out);
      REQUIRE(k.error == "");
      CHECK(k.in_ram(cut.pfn));
      const auto rd = k.read_page(cut.pfn, page);
      CHECK(rd == KdumpFile::Read::ok);
      CHECK((page == want));
      const std::uint64_t inner = cut.head ? cut.pfn + 1 : cut.pfn - 1;
      CHECK(k.read_page(inner, page) == KdumpFile::Read::ok);
      CHECK((page == b.page_content(inner)));
    } else {
      const ElfCore e = ElfCore::load(r.out);
      REQUIRE(e.error == "");
      CHECK(e.page(cut.pfn, page) != ElfCore::Where::absent);
      CHECK((page == want));
    }
  }
}

TEST_CASE("capture roundtrip: flattened stream reassembles to the direct file",
          "[capture][roundtrip][flat]") {
  TempDir dir;
  const Core c = make_core(dir);
  struct Cfg {
    DumpFormat fmt;
    Compression comp;
    int level;
  };
  const Cfg cfg = GENERATE(Cfg{DumpFormat::kdump, Compression::zstd, 31},
                           Cfg{DumpFormat::kdump, Compression::lzo, 0},
                           Cfg{DumpFormat::elf, Compression::none, 31});
  CAPTURE(static_cast<int>(cfg.fmt), cfg.level);
  const Run direct = capture_to(dir.file("direct"), c.path, cfg.level, cfg.fmt, cfg.comp);
  const auto direct_bytes = testing::read_file(direct.out);

  const std::string flat_path = dir.file("stream");
  {
    const int fd = ::open(flat_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    FlatSink sink(fd, flat_path);
    CaptureRequest req;
    req.vmcore = c.path;
    req.dump_level = cfg.level;
    req.format = cfg.fmt;
    req.compression = cfg.comp;
    req.threads = 2;
    auto st = run_capture(req, sink, {});
    if (!st)
      FAIL(st.error().message());
    REQUIRE(sink.finish());
    ::close(fd);
  }
  const auto stream = testing::read_file(flat_path);
  const FlatStream f = FlatStream::parse(stream);
  REQUIRE(f.error == "");
  CHECK(f.signature == "makedumpfile");
  CHECK(testing::rdbe64(stream, 16) == 1); // type, big-endian
  CHECK(testing::rdbe64(stream, 24) == 1); // version, big-endian
  CHECK(std::all_of(stream.begin() + 32, stream.begin() + 4096, [](auto x) { return x == 0; }));
  REQUIRE(!f.records.empty());
  // The main header comes first (crash and -R read it before anything else).
  CHECK(f.records[0].offset == 0);
  CHECK(f.records[0].size == (cfg.fmt == DumpFormat::kdump ? 464u : 64u));
  CHECK(f.end_marker);
  CHECK(f.end_marker_pos + 16 == stream.size());
  // No zero-length records (-R stops at one); the header is written once, final: crash uses the
  // first copy of a range in a flattened file.
  std::uint64_t header_writes = 0;
  for (const auto& rec : f.records) {
    CHECK(rec.size > 0);
    if (rec.offset < f.records[0].size)
      ++header_writes;
  }
  CHECK(header_writes == 1);
  CHECK((f.rebuilt == direct_bytes));

  // The library's own reassembly gives the same file.
  const std::string re = dir.file("reassembled");
  {
    const int fd = ::open(flat_path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto st = reassemble_flattened(fd, flat_path, re, false);
    ::close(fd);
    if (!st)
      FAIL(st.error().message());
  }
  CHECK((testing::read_file(re) == direct_bytes));
  CHECK_FALSE(testing::file_exists(re + ".incomplete"));

  // An existing output is refused without force, and kept.
  {
    const int fd = ::open(flat_path.c_str(), O_RDONLY | O_CLOEXEC);
    auto st = reassemble_flattened(fd, flat_path, re, false);
    ::close(fd);
    REQUIRE_FALSE(st);
    CHECK(st.error().category() == ErrorCategory::exists);
    CHECK((testing::read_file(re) == direct_bytes));
  }

  SECTION("a truncated stream fails naming the offset and leaves OUTPUT absent") {
    // Cut inside the last data record, inside a record header, and right before the end marker.
    const auto& last = f.records.back();
    const auto& mid = f.records[f.records.size() / 2];
    struct Cut {
      std::uint64_t at;
      std::vector<std::uint64_t> named; // acceptable offsets in the message
    };
    const std::vector<Cut> cuts = {
        {last.stream_pos + 16 + last.size / 2, {last.stream_pos, last.stream_pos + 16}},
        {mid.stream_pos + 9, {mid.stream_pos}},
        {f.end_marker_pos, {f.end_marker_pos}},
        {f.end_marker_pos + 8, {f.end_marker_pos}},
    };
    for (const auto& cut : cuts) {
      CAPTURE(cut.at);
      const std::string cut_path = dir.file("cut");
      {
        std::vector<std::uint8_t> part(stream.begin(), stream.begin() + static_cast<long>(cut.at));
        const int fd = ::open(cut_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        REQUIRE(::write(fd, part.data(), part.size()) == static_cast<ssize_t>(part.size()));
        ::close(fd);
      }
      const std::string out = dir.file("cut-out");
      const int fd = ::open(cut_path.c_str(), O_RDONLY | O_CLOEXEC);
      auto st = reassemble_flattened(fd, cut_path, out, false);
      ::close(fd);
      REQUIRE_FALSE(st);
      const std::string msg = st.error().message();
      CAPTURE(msg);
      CHECK(st.error().category() == ErrorCategory::data);
      CHECK(msg.find(cut_path) != std::string::npos);
      bool named = false;
      for (auto o : cut.named) {
        char hex[32];
        std::snprintf(hex, sizeof hex, "offset 0x%llx", static_cast<unsigned long long>(o));
        named = named || msg.find(hex) != std::string::npos;
      }
      CHECK(named);
      CHECK_FALSE(testing::file_exists(out));
      std::filesystem::remove(out + ".incomplete");
    }
    // Not a stream at all.
    const std::string out = dir.file("junk-out");
    const int fd = ::open(c.path.c_str(), O_RDONLY | O_CLOEXEC);
    auto st = reassemble_flattened(fd, c.path, out, false);
    ::close(fd);
    REQUIRE_FALSE(st);
    CHECK(st.error().category() == ErrorCategory::data);
    CHECK(st.error().message().find("makedumpfile") != std::string::npos);
    CHECK_FALSE(testing::file_exists(out));
  }
}
