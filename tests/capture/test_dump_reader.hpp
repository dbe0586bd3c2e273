#pragma once
// Independent readers for the dumps crashkit writes, used as test oracles: a kdump-compressed
// ("KDUMP   ") reader and a filtered-ELF reader. They parse the bytes with explicit offsets from
// dump-formats-and-filtering.md (1.2, 1.5, 1.7) and the ELF64 spec, never through the library's
// own structs or writers, so a layout mistake in the library shows up as a mismatch here.
// Plus small shared helpers: a temp dir and building/writing fixture cores.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

namespace crashkit::testing {

/// One kdump page payload back to page_size bytes, with each library called directly (not
/// through the capture library's PageCompressor) so a bug there cannot cancel out. Flags are
/// makedumpfile's DUMP_DH_COMPRESSED_ZLIB 0x1, _LZO 0x2, _SNAPPY 0x4, _ZSTD 0x20 (diskdump_mod.h).
inline bool oracle_decompress(std::uint32_t flags, const std::uint8_t* in, std::size_t in_len,
                              std::uint8_t* out, std::size_t page_size) {
  switch (flags) {
  case 0:
    if (in_len != page_size)
      return false;
    std::memcpy(out, in, page_size);
    return true;
  case 0x01: {
    uLongf len = static_cast<uLongf>(page_size);
    return ::uncompress(out, &len, in, static_cast<uLong>(in_len)) == Z_OK && len == page_size;
  }
  case 0x02: {
    if (::lzo_init() != LZO_E_OK)
      return false;
    lzo_uint len = page_size;
    return ::lzo1x_decompress_safe(in, in_len, out, &len, nullptr) == LZO_E_OK && len == page_size;
  }
  case 0x04: {
    std::size_t len = 0;
    const char* src = reinterpret_cast<const char*>(in);
    if (::snappy_uncompressed_length(src, in_len, &len) != SNAPPY_OK || len != page_size)
      return false;
    return ::snappy_uncompress(src, in_len, reinterpret_cast<char*>(out), &len) == SNAPPY_OK &&
           len == page_size;
  }
  case 0x20: {
    const std::size_t r = ::ZSTD_decompress(out, page_size, in, in_len);
    return !ZSTD_isError(r) && r == page_size;
  }
  default:
    return false;
  }
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = "/tmp/ck-capture-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::vector<std::uint8_t> read_file(const std::string& path) {
  std::vector<std::uint8_t> out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return out;
  struct stat st {};
  if (::fstat(fd, &st) == 0) {
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
      if (n <= 0)
        break;
      done += static_cast<std::size_t>(n);
    }
    out.resize(done);
  }
  ::close(fd);
  return out;
}

inline bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

inline std::uint64_t rd64(const std::vector<std::uint8_t>& b, std::uint64_t off) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = v << 8 | b.at(off + static_cast<std::uint64_t>(i));
  return v;
}
inline std::uint32_t rd32(const std::vector<std::uint8_t>& b, std::uint64_t off) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = v << 8 | b.at(off + static_cast<std::uint64_t>(i));
  return v;
}
inline std::uint16_t rd16(const std::vector<std::uint8_t>& b, std::uint64_t off) {
  return static_cast<std::uint16_t>(b.at(off) | b.at(off + 1) << 8);
}
inline std::uint64_t rdbe64(const std::vector<std::uint8_t>& b, std::uint64_t off) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = v << 8 | b.at(off + static_cast<std::uint64_t>(i));
  return v;
}

inline bool all_zero(const std::vector<std::uint8_t>& v) {
  return std::all_of(v.begin(), v.end(), [](std::uint8_t c) { return c == 0; });
}

// ---------------------------------------------------------------------------------------------
// kdump-compressed reader.

struct KdumpFile {
  std::vector<std::uint8_t> bytes;
  std::string error; // first structural problem found, empty when the file parsed

  // disk_dump_header
  std::string signature;
  std::int32_t header_version = 0;
  std::string uts[6]; // sysname nodename release version machine domainname
  std::int64_t timestamp_sec = 0;
  std::uint32_t status = 0;
  std::int32_t block_size = 0;
  std::int32_t sub_hdr_size = 0;
  std::uint32_t bitmap_blocks = 0;
  std::uint32_t max_mapnr32 = 0;
  std::int32_t nr_cpus = 0;
  // kdump_sub_header
  std::uint64_t phys_base = 0;
  std::int32_t dump_level = 0;
  std::int32_t split = 0;
  std::uint64_t offset_vmcoreinfo = 0, size_vmcoreinfo = 0;
  std::uint64_t offset_note = 0, size_note = 0;
  std::uint64_t offset_eraseinfo = 0, size_eraseinfo = 0;
  std::uint64_t start_pfn_64 = 0, end_pfn_64 = 0, max_mapnr_64 = 0;

  std::uint64_t bitmap1_off = 0, bitmap2_off = 0, bitmap_len = 0;
  std::uint64_t desc_off = 0, num_dumpable = 0, data_start = 0;
  std::vector<std::uint64_t> rank_prefix; // set bits of bitmap 2 before each 64-bit word

  struct Desc {
    std::int64_t offset;
    std::uint32_t size, flags;
    std::uint64_t page_flags;
  };

  static KdumpFile load(const std::string& path) {
    KdumpFile k;
    k.bytes = read_file(path);
    k.parse();
    return k;
  }

  static std::string cstr(const std::vector<std::uint8_t>& b, std::uint64_t off, std::size_t max) {
    std::string s;
    for (std::size_t i = 0; i < max && b[off + i]; ++i)
      s.push_back(static_cast<char>(b[off + i]));
    return s;
  }

  void parse() {
    if (bytes.size() < 464) {
      error = "file shorter than the main header";
      return;
    }
    signature.assign(reinterpret_cast<const char*>(bytes.data()), 8);
    header_version = static_cast<std::int32_t>(rd32(bytes, 8));
    for (int i = 0; i < 6; ++i)
      uts[i] = cstr(bytes, 12 + 65 * static_cast<std::uint64_t>(i), 65);
    timestamp_sec = static_cast<std::int64_t>(rd64(bytes, 408));
    status = rd32(bytes, 424);
    block_size = static_cast<std::int32_t>(rd32(bytes, 428));
    sub_hdr_size = static_cast<std::int32_t>(rd32(bytes, 432));
    bitmap_blocks = rd32(bytes, 436);
    max_mapnr32 = rd32(bytes, 440);
    nr_cpus = static_cast<std::int32_t>(rd32(bytes, 460));
    if (block_size <= 0 || !std::has_single_bit(static_cast<std::uint32_t>(block_size))) {
      error = "bad block_size";
      return;
    }
    const std::uint64_t B = static_cast<std::uint64_t>(block_size);
    if (bytes.size() < B + 104) {
      error = "file shorter than the sub-header";
      return;
    }
    phys_base = rd64(bytes, B + 0);
    dump_level = static_cast<std::int32_t>(rd32(bytes, B + 8));
    split = static_cast<std::int32_t>(rd32(bytes, B + 12));
    offset_vmcoreinfo = rd64(bytes, B + 32);
    size_vmcoreinfo = rd64(bytes, B + 40);
    offset_note = rd64(bytes, B + 48);
    size_note = rd64(bytes, B + 56);
    offset_eraseinfo = rd64(bytes, B + 64);
    size_eraseinfo = rd64(bytes, B + 72);
    start_pfn_64 = rd64(bytes, B + 80);
    end_pfn_64 = rd64(bytes, B + 88);
    max_mapnr_64 = rd64(bytes, B + 96);

    bitmap_len = static_cast<std::uint64_t>(bitmap_blocks) / 2 * B;
    bitmap1_off = (1 + static_cast<std::uint64_t>(sub_hdr_size)) * B;
    bitmap2_off = bitmap1_off + bitmap_len;
    desc_off = bitmap2_off + bitmap_len;
    if (bitmap2_off + bitmap_len > bytes.size()) {
      error = "bitmaps extend past the end of the file";
      return;
    }
    if ((max_mapnr_64 + 7) / 8 > bitmap_len) {
      error = "bitmaps shorter than max_mapnr_64";
      return;
    }
    const std::uint64_t words = (max_mapnr_64 + 63) / 64;
    rank_prefix.assign(words + 1, 0);
    for (std::uint64_t w = 0; w < words; ++w) {
      std::uint64_t v = 0;
      for (int i = 7; i >= 0; --i) {
        const std::uint64_t o = w * 8 + static_cast<std::uint64_t>(i);
        v = v << 8 | (o < bitmap_len ? bytes[bitmap2_off + o] : 0);
      }
      if (w == words - 1 && max_mapnr_64 % 64)
        v &= (1ULL << (max_mapnr_64 % 64)) - 1;
      rank_prefix[w + 1] = rank_prefix[w] + static_cast<std::uint64_t>(std::popcount(v));
    }
    num_dumpable = rank_prefix[words];
    data_start = desc_off + num_dumpable * 24;
    if (data_start > bytes.size())
      error = "descriptor table extends past the end of the file";
  }

  bool bit(std::uint64_t base, std::uint64_t pfn) const {
    return (bytes[base + pfn / 8] >> (pfn % 8)) & 1;
  }
  bool in_ram(std::uint64_t pfn) const { return pfn < max_mapnr_64 && bit(bitmap1_off, pfn); }
  bool dumpable(std::uint64_t pfn) const { return pfn < max_mapnr_64 && bit(bitmap2_off, pfn); }
  /// Set bits of bitmap 2 before pfn.
  std::uint64_t rank(std::uint64_t pfn) const {
    std::uint64_t r = rank_prefix[pfn / 64];
    for (std::uint64_t p = pfn / 64 * 64; p < pfn; ++p)
      r += bit(bitmap2_off, p);
    return r;
  }
  Desc desc(std::uint64_t pfn) const {
    const std::uint64_t o = desc_off + rank(pfn) * 24;
    return {static_cast<std::int64_t>(rd64(bytes, o)), rd32(bytes, o + 8), rd32(bytes, o + 12),
            rd64(bytes, o + 16)};
  }

  enum class Read { ok, not_ram, excluded, bad_desc, bad_payload };
  /// Reads page pfn the way crash does (1.13 step 10).
  Read read_page(std::uint64_t pfn, std::vector<std::uint8_t>& out, Desc* d_out = nullptr) const {
    if (!in_ram(pfn))
      return Read::not_ram;
    if (!dumpable(pfn))
      return Read::excluded;
    const Desc d = desc(pfn);
    if (d_out)
      *d_out = d;
    const std::uint64_t B = static_cast<std::uint64_t>(block_size);
    if (d.offset < static_cast<std::int64_t>(data_start) ||
        static_cast<std::uint64_t>(d.offset) + d.size > bytes.size() || d.size == 0 || d.size > B)
      return Read::bad_desc;
    // At most one compression bit; a raw page is exactly one block.
    const std::uint32_t known = 0x01 | 0x02 | 0x04 | 0x20;
    if ((d.flags & ~known) != 0 || std::popcount(d.flags) > 1)
      return Read::bad_desc;
    if (d.flags == 0 && d.size != B)
      return Read::bad_desc;
    out.assign(B, 0xa5);
    if (!oracle_decompress(d.flags, bytes.data() + d.offset, d.size, out.data(), B))
      return Read::bad_payload;
    return Read::ok;
  }
};

// ---------------------------------------------------------------------------------------------
// ELF core reader (program headers only; notes as a raw segment).

struct ElfCore {
  struct Phdr {
    std::uint32_t type, flags;
    std::uint64_t offset, vaddr, paddr, filesz, memsz;
  };
  std::vector<std::uint8_t> bytes;
  std::string error;
  std::uint16_t e_type = 0, e_machine = 0, e_phnum_raw = 0;
  std::uint32_t e_flags = 0;
  std::vector<Phdr> phdrs;

  static ElfCore load(const std::string& path) {
    ElfCore e;
    e.bytes = read_file(path);
    e.parse();
    return e;
  }

  void parse() {
    if (bytes.size() < 64 || std::memcmp(bytes.data(), "\177ELF", 4) != 0 || bytes[4] != 2 ||
        bytes[5] != 1) {
      error = "not a little-endian ELF64 file";
      return;
    }
    e_type = rd16(bytes, 16);
    e_machine = rd16(bytes, 18);
    e_flags = rd32(bytes, 48);
    const std::uint64_t phoff = rd64(bytes, 32);
    e_phnum_raw = rd16(bytes, 56);
    std::uint64_t phnum = e_phnum_raw;
    if (phnum == 0xffff) { // PN_XNUM: real count in section 0's sh_info
      const std::uint64_t shoff = rd64(bytes, 40);
      phnum = rd32(bytes, shoff + 44);
    }
    if (rd16(bytes, 54) != 56 || phoff + phnum * 56 > bytes.size()) {
      error = "program headers out of the file";
      return;
    }
    for (std::uint64_t i = 0; i < phnum; ++i) {
      const std::uint64_t o = phoff + i * 56;
      Phdr p{rd32(bytes, o),      rd32(bytes, o + 4),  rd64(bytes, o + 8), rd64(bytes, o + 16),
             rd64(bytes, o + 24), rd64(bytes, o + 32), rd64(bytes, o + 40)};
      if ((p.type == 1 || p.type == 4) && p.offset + p.filesz > bytes.size()) {
        error = "segment " + std::to_string(i) + " extends past the end of the file";
        return;
      }
      if (p.type == 1 && p.filesz > p.memsz) {
        error = "segment " + std::to_string(i) + " has p_filesz > p_memsz";
        return;
      }
      phdrs.push_back(p);
    }
  }

  enum class Where { absent, file, memsz_only };
  /// Assembles physical page pfn from the PT_LOADs (kernel-text aliases, vaddr >=
  /// 0xffffffff80000000, only when alias): bytes outside every segment or past p_filesz read
  /// as zero. absent: no segment touches the page; file: some of its bytes are file data.
  Where page(std::uint64_t pfn, std::vector<std::uint8_t>& out, bool alias = false) const {
    const std::uint64_t a = pfn * 4096, e = a + 4096;
    out.assign(4096, 0);
    bool touched = false, data = false;
    for (const auto& p : phdrs) {
      if (p.type != 1)
        continue;
      const bool is_alias = p.vaddr >= 0xffffffff80000000ULL;
      if (is_alias != alias)
        continue;
      const std::uint64_t lo = std::max(a, p.paddr), hi = std::min(e, p.paddr + p.memsz);
      if (lo >= hi)
        continue;
      touched = true;
      const std::uint64_t fend = std::min(hi, p.paddr + p.filesz);
      if (lo < fend) {
        std::memcpy(out.data() + (lo - a), bytes.data() + p.offset + (lo - p.paddr), fend - lo);
        data = true;
      }
    }
    return !touched ? Where::absent : data ? Where::file : Where::memsz_only;
  }
};

// ---------------------------------------------------------------------------------------------
// Flattened stream (makedumpfile -F), parsed independently of reassemble_flattened().

struct FlatStream {
  struct Record {
    std::uint64_t stream_pos, offset, size;
  };
  std::string error;
  std::string signature;
  std::uint64_t type = 0, version = 0;
  std::vector<Record> records;
  bool end_marker = false;
  std::uint64_t end_marker_pos = 0;
  std::vector<std::uint8_t> rebuilt; // records applied in stream order

  static FlatStream parse(const std::vector<std::uint8_t>& s) {
    FlatStream f;
    if (s.size() < 4096) {
      f.error = "shorter than the 4096-byte header";
      return f;
    }
    f.signature = KdumpFile::cstr(s, 0, 16);
    f.type = rdbe64(s, 16);
    f.version = rdbe64(s, 24);
    std::uint64_t pos = 4096;
    while (pos + 16 <= s.size()) {
      const std::uint64_t off = rdbe64(s, pos), size = rdbe64(s, pos + 8);
      if (off == ~0ULL && size == ~0ULL) {
        f.end_marker = true;
        f.end_marker_pos = pos;
        pos += 16;
        break;
      }
      if (static_cast<std::int64_t>(off) < 0 || static_cast<std::int64_t>(size) <= 0 ||
          pos + 16 + size > s.size()) {
        f.error = "bad record at stream offset " + std::to_string(pos);
        return f;
      }
      f.records.push_back({pos, off, size});
      if (f.rebuilt.size() < off + size)
        f.rebuilt.resize(off + size, 0);
      std::memcpy(f.rebuilt.data() + off, s.data() + pos + 16, size);
      pos += 16 + size;
    }
    if (!f.end_marker)
      f.error = "no end marker";
    else if (pos != s.size())
      f.error = "bytes after the end marker";
    return f;
  }
};

} // namespace crashkit::testing
