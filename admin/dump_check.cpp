#include "crashkit/admin/dump_check.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "crashkit/base/file_at.hpp"
#include "crashkit/base/hex.hpp"
#include "crashkit/base/io.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/kdump_format.hpp"
#include "crashkit/capture/page_compressor.hpp"
#include "crashkit/capture_init/dump_dir.hpp"

namespace crashkit::admin {
namespace {

namespace kd = capture::kdump;

// Bitmaps and descriptors are read in pieces of this size: any dump in bounded memory.
constexpr std::size_t kChunk = 1u << 16;

Error bad(const std::string& path, std::string what, std::uint64_t off) {
  return Error(ErrorCategory::data, std::move(what)).with_path(path).with_offset(off);
}

struct Layout {
  kd::DiskDumpHeader h{};
  kd::KdumpSubHeader sh{};
  std::uint64_t block = 0; // B: the page size
  std::uint64_t max_mapnr = 0;
  std::uint64_t bitmap1 = 0;    // offset of the first bitmap
  std::uint64_t bitmap_len = 0; // bytes of one bitmap
  std::uint64_t desc = 0;       // offset of the descriptor table
};

// The header and sub-header, and the extents they imply; nothing past the sub-header is read.
Result<Layout> read_layout(int fd, const std::string& path, std::uint64_t size) {
  Layout l;
  CK_TRY(pread_full(fd, &l.h, std::min<std::uint64_t>(size, sizeof l.h), 0, path));
  if (capture_init::probe_dump_format(&l.h, std::min<std::uint64_t>(size, sizeof l.h)) !=
      capture_init::DumpFileFormat::kdump)
    return bad(path, "no \"KDUMP   \" signature", 0);
  if (size < sizeof l.h)
    return bad(path,
               "the file ends inside the kdump header (" + std::to_string(size) + " of " +
                   std::to_string(sizeof l.h) + " bytes)",
               0);
  // Block size is the crashed kernel's page size: 4 KiB on x86_64, up to 64 KiB elsewhere.
  const auto bs = l.h.block_size;
  if (bs < 1024 || bs > (1 << 20) || !std::has_single_bit(static_cast<std::uint32_t>(bs)))
    return bad(path, "block_size " + std::to_string(bs) + " is not a page size",
               offsetof(kd::DiskDumpHeader, block_size));
  l.block = static_cast<std::uint64_t>(bs);
  if (l.h.sub_hdr_size < 1)
    return bad(path, "sub_hdr_size " + std::to_string(l.h.sub_hdr_size) + " leaves no sub-header",
               offsetof(kd::DiskDumpHeader, sub_hdr_size));
  if (size < l.block + sizeof l.sh)
    return bad(path, "the file ends inside the sub-header (" + std::to_string(size) + " bytes)",
               l.block);
  CK_TRY(pread_full(fd, &l.sh, sizeof l.sh, l.block, path));
  // max_mapnr_64 arrived with header version 6 (makedumpfile 1.5.3); before, the 32-bit field.
  l.max_mapnr = l.h.header_version >= 6 ? l.sh.max_mapnr_64 : l.h.max_mapnr;
  if (l.h.bitmap_blocks == 0 || l.h.bitmap_blocks % 2 != 0)
    return bad(path, "bitmap_blocks " + std::to_string(l.h.bitmap_blocks) + " is not two bitmaps",
               offsetof(kd::DiskDumpHeader, bitmap_blocks));
  // MAX_PHYSMEM_BITS is at most 52 (x86_64 5-level paging, arm64 LPA): no more pfns than that.
  if (l.max_mapnr > (std::uint64_t{1} << 52) / l.block)
    return bad(path, "max_mapnr " + std::to_string(l.max_mapnr) + " exceeds 2^52 bytes of memory",
               l.h.header_version >= 6 ? l.block + offsetof(kd::KdumpSubHeader, max_mapnr_64)
                                       : offsetof(kd::DiskDumpHeader, max_mapnr));
  l.bitmap1 = (1 + static_cast<std::uint64_t>(l.h.sub_hdr_size)) * l.block;
  l.bitmap_len = l.h.bitmap_blocks / 2 * l.block;
  l.desc = l.bitmap1 + 2 * l.bitmap_len;
  // One bit per pfn below max_mapnr, in whole blocks (makedumpfile and our writer); a block of
  // slack is tolerated.
  const std::uint64_t needed = ((l.max_mapnr + 7) / 8 + l.block - 1) / l.block * l.block;
  if (l.bitmap_len < needed || l.bitmap_len > needed + l.block)
    return bad(path,
               "bitmaps of " + std::to_string(l.bitmap_len) + " bytes each do not fit max_mapnr " +
                   std::to_string(l.max_mapnr) + " (" + std::to_string(needed) + " bytes)",
               offsetof(kd::DiskDumpHeader, bitmap_blocks));
  return l;
}

// Calls fn(pfn, bit1, bit2) for every pfn below max_mapnr whose bit is set in either bitmap.
template <class Fn> Status scan_bitmaps(int fd, const std::string& path, const Layout& l, Fn&& fn) {
  const std::uint64_t bytes = (l.max_mapnr + 7) / 8;
  std::vector<std::uint8_t> b1(kChunk), b2(kChunk);
  for (std::uint64_t at = 0; at < bytes; at += kChunk) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - at));
    CK_TRY(pread_full(fd, b1.data(), n, l.bitmap1 + at, path));
    CK_TRY(pread_full(fd, b2.data(), n, l.bitmap1 + l.bitmap_len + at, path));
    for (std::size_t i = 0; i < n; ++i) {
      if ((b1[i] | b2[i]) == 0)
        continue;
      for (unsigned bit = 0; bit < 8; ++bit) {
        const std::uint64_t pfn = (at + i) * 8 + bit;
        if (pfn >= l.max_mapnr)
          break;
        const bool r = (b1[i] >> bit) & 1, d = (b2[i] >> bit) & 1;
        if (r || d)
          CK_TRY(fn(pfn, r, d));
      }
    }
  }
  return {};
}

std::uint32_t known_flags() {
  std::uint32_t m = 0;
  for (auto c : {capture::Compression::zlib, capture::Compression::lzo,
                 capture::Compression::snappy, capture::Compression::zstd})
    m |= capture::kdump_flag(c);
  return m;
}

Result<DumpCheck> check_kdump(int fd, const std::string& path, std::uint64_t size,
                              std::uint64_t sample) {
  DumpCheck c;
  c.format = DumpCheck::Format::kdump;
  c.file_bytes = size;
  auto lay = CK_TRY(read_layout(fd, path, size));
  const Layout& l = lay;
  c.incomplete = (l.h.status & kd::kStatusIncomplete) != 0;
  const auto within = [&](std::uint64_t off, std::uint64_t len) {
    return off <= size && len <= size - off;
  };
  if (l.sh.size_note && !within(l.sh.offset_note, l.sh.size_note))
    return bad(path,
               "the notes (" + hex(l.sh.offset_note) + "+" + std::to_string(l.sh.size_note) +
                   ") end past the end of the file (" + hex(size) + " bytes)",
               l.block + offsetof(kd::KdumpSubHeader, offset_note));
  if (l.sh.size_vmcoreinfo && !within(l.sh.offset_vmcoreinfo, l.sh.size_vmcoreinfo))
    return bad(path,
               "VMCOREINFO (" + hex(l.sh.offset_vmcoreinfo) + "+" +
                   std::to_string(l.sh.size_vmcoreinfo) + ") ends past the end of the file (" +
                   hex(size) + " bytes)",
               l.block + offsetof(kd::KdumpSubHeader, offset_vmcoreinfo));
  if (!within(l.bitmap1, 2 * l.bitmap_len))
    return bad(path,
               "the bitmaps (" + hex(l.bitmap1) + "+2*" + std::to_string(l.bitmap_len) +
                   ") end past the end of the file (" + hex(size) + " bytes)",
               l.bitmap1);

  // Bitmap 2 (dumpable) must lie inside bitmap 1 (RAM); its bits count the descriptors.
  std::uint64_t dumpable = 0;
  const Status ram_ok =
      scan_bitmaps(fd, path, l, [&](std::uint64_t pfn, bool ram, bool dump) -> Status {
        if (dump && !ram)
          return bad(path, "bitmap 2 marks pfn " + hex(pfn) + ", which bitmap 1 does not",
                     l.bitmap1 + l.bitmap_len + pfn / 8);
        dumpable += dump;
        return {};
      });
  if (!ram_ok)
    return ram_ok.error();
  c.descriptors = dumpable;
  const std::uint64_t data_start = l.desc + dumpable * sizeof(kd::PageDesc);
  if (data_start > size)
    return bad(path,
               "the descriptor table (" + std::to_string(dumpable) + " descriptors from " +
                   hex(l.desc) + ") ends past the end of the file (" + hex(size) + " bytes)",
               l.desc);

  // Every descriptor; payloads of an evenly spread sample decompressed.
  const std::uint32_t known = known_flags();
  const std::uint64_t stride =
      std::max<std::uint64_t>(1, dumpable / std::max<std::uint64_t>(1, sample));
  std::vector<kd::PageDesc> descs(kChunk / sizeof(kd::PageDesc));
  std::vector<std::uint8_t> payload(l.block), page(l.block);
  std::uint64_t index = 0, buffered_from = 0, buffered = 0;
  const Status descs_ok =
      scan_bitmaps(fd, path, l, [&](std::uint64_t pfn, bool, bool dump) -> Status {
        if (!dump)
          return {};
        const std::uint64_t i = index++;
        if (i >= buffered_from + buffered) {
          buffered_from = i;
          buffered = std::min<std::uint64_t>(descs.size(), dumpable - i);
          CK_TRY(pread_full(fd, descs.data(), buffered * sizeof(kd::PageDesc),
                            l.desc + i * sizeof(kd::PageDesc), path));
        }
        const kd::PageDesc& d = descs[i - buffered_from];
        const std::uint64_t at = l.desc + i * sizeof(kd::PageDesc);
        const std::string who = "descriptor " + std::to_string(i) + " (pfn " + hex(pfn) + ")";
        if (d.offset == 0) { // never written (cut short) or unreadable in the crashed kernel
          ++c.not_written;
          return {};
        }
        const auto off = static_cast<std::uint64_t>(d.offset);
        if (d.offset < 0 || off < data_start)
          return bad(path,
                     who + ": payload offset " + std::to_string(d.offset) +
                         " is not in the page data (from " + hex(data_start) + ")",
                     at);
        if (d.size == 0 || d.size > l.block)
          return bad(path,
                     who + ": payload size " + std::to_string(d.size) + " for a " +
                         std::to_string(l.block) + "-byte page",
                     at);
        if (!within(off, d.size))
          return bad(path,
                     who + ": payload " + hex(off) + "+" + std::to_string(d.size) +
                         " ends past the end of the file (" + hex(size) + " bytes)",
                     at);
        if ((d.flags & ~known) != 0 || std::popcount(d.flags) > 1 ||
            (d.flags == 0 && d.size != l.block))
          return bad(path,
                     who + ": flags " + hex(d.flags) + " with size " + std::to_string(d.size) +
                         " name no single compression",
                     at);
        if (i % stride == 0 && c.sampled < sample) {
          CK_TRY(pread_full(fd, payload.data(), d.size, off, path));
          if (!capture::PageCompressor::decompress(d.flags, payload.data(), d.size, page.data(),
                                                   l.block))
            return bad(path,
                       who + ": payload at " + hex(off) + " (" + std::to_string(d.size) +
                           " bytes, flags " + hex(d.flags) + ") does not decompress to a page",
                       off);
          ++c.sampled;
        }
        return {};
      });
  if (!descs_ok)
    return descs_ok.error();
  return c;
}

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

Result<DumpCheck> check_elf(int fd, const std::string& path, std::uint64_t size) {
  DumpCheck c;
  c.format = DumpCheck::Format::elf;
  c.file_bytes = size;
  if (elf_version(EV_CURRENT) == EV_NONE)
    return Error(ErrorCategory::internal, std::string("libelf: ") + elf_errmsg(-1));
  std::unique_ptr<Elf, ElfCloser> e(elf_begin(fd, ELF_C_READ, nullptr));
  GElf_Ehdr eh{};
  if (!e || elf_kind(e.get()) != ELF_K_ELF || gelf_getclass(e.get()) != ELFCLASS64 ||
      !gelf_getehdr(e.get(), &eh))
    return bad(path, std::string("not an ELF64 file: ") + elf_errmsg(-1), 0);
  if (eh.e_type != ET_CORE)
    return bad(path, "ELF type " + std::to_string(eh.e_type) + " is not a core file",
               offsetof(Elf64_Ehdr, e_type));
  // The count the header declares: elf_getphdrnum() quietly shortens it to what fits in a
  // truncated file. Past 0xfffe headers (PN_XNUM) it is section 0's sh_info.
  std::size_t phnum = eh.e_phnum;
  if (phnum == PN_XNUM) {
    GElf_Shdr s0{};
    Elf_Scn* scn = elf_getscn(e.get(), 0);
    if (!scn || !gelf_getshdr(scn, &s0))
      return bad(path, std::string("PN_XNUM without section 0: ") + elf_errmsg(-1),
                 offsetof(Elf64_Ehdr, e_shoff));
    phnum = s0.sh_info;
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size ||
      phnum > (size - eh.e_phoff) / sizeof(Elf64_Phdr))
    return bad(path,
               std::to_string(phnum) + " program headers from " + hex(eh.e_phoff) +
                   " end past the end of the file (" + hex(size) + " bytes)",
               offsetof(Elf64_Ehdr, e_phoff));
  for (std::size_t i = 0; i < phnum; ++i) {
    GElf_Phdr p{};
    const std::uint64_t at = eh.e_phoff + i * sizeof(Elf64_Phdr);
    if (!gelf_getphdr(e.get(), static_cast<int>(i), &p))
      return bad(path, "program header " + std::to_string(i) + ": " + elf_errmsg(-1), at);
    if (p.p_type != PT_LOAD && p.p_type != PT_NOTE)
      continue;
    if (p.p_offset > size || p.p_filesz > size - p.p_offset)
      return bad(path,
                 "program header " + std::to_string(i) + ": " + hex(p.p_offset) + "+" +
                     std::to_string(p.p_filesz) + " ends past the end of the file (" + hex(size) +
                     " bytes)",
                 at);
    if (p.p_type == PT_LOAD && p.p_filesz > p.p_memsz)
      return bad(path,
                 "program header " + std::to_string(i) + ": p_filesz " +
                     std::to_string(p.p_filesz) + " exceeds p_memsz " + std::to_string(p.p_memsz),
                 at);
  }
  c.segments = phnum;
  return c;
}

} // namespace

std::string DumpCheck::summary() const {
  if (format == Format::elf)
    return "ELF: header ok, " + std::to_string(segments) + " program headers within the file";
  std::string s = incomplete ? "kdump (marked incomplete)" : "kdump";
  s += ": header ok, 2 bitmaps ok, " + std::to_string(descriptors) +
       " descriptors within the file, " + std::to_string(sampled) + " sampled pages decompressed";
  if (not_written)
    s += ", " + std::to_string(not_written) + " pages not in the dump";
  return s;
}

Result<DumpCheck> check_dump(const std::string& path, std::uint64_t sample) {
  auto opened = CK_TRY(open_regular_at(AT_FDCWD, path, O_RDONLY, path));
  auto& [fd, size] = opened;
  if (CK_TRY(capture_init::probe_dump_file(fd.get(), path)) == capture_init::DumpFileFormat::elf)
    return check_elf(fd.get(), path, size);
  return check_kdump(fd.get(), path, size, sample);
}

Status mark_kdump_incomplete(const std::string& path) {
  auto opened = CK_TRY(open_regular_at(AT_FDCWD, path, O_RDWR, path));
  UniqueFd& fd = opened.fd;
  std::uint64_t& size = opened.size;
  auto lay = CK_TRY(read_layout(fd.get(), path, size));
  Layout& l = lay;
  l.h.status |= kd::kStatusIncomplete;
  CK_TRY(pwrite_full(fd.get(), &l.h, sizeof l.h, 0, path));
  // Bitmap bytes the stream never delivered read as zero (no page); so do the descriptors of
  // the pages that are marked but were never reached (offset 0: not in the dump).
  const auto extend = [&](std::uint64_t to) -> Status {
    if (size >= to)
      return {};
    if (::ftruncate(fd.get(), static_cast<off_t>(to)) != 0)
      return Error::from_errno(errno, "extend to " + std::to_string(to) + " bytes").with_path(path);
    size = to;
    return {};
  };
  CK_TRY(extend(l.desc));
  std::uint64_t dumpable = 0;
  const Status counted =
      scan_bitmaps(fd.get(), path, l, [&](std::uint64_t, bool, bool dump) -> Status {
        dumpable += dump;
        return {};
      });
  if (!counted)
    return counted.error();
  CK_TRY(extend(l.desc + dumpable * sizeof(kd::PageDesc)));
  if (::fdatasync(fd.get()) != 0)
    return Error::from_errno(errno, "fdatasync").with_path(path);
  return {};
}

} // namespace crashkit::admin
