#include "crashkit/capture/vmcore_file.hpp"
#include "crashkit/base/hex.hpp"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "crashkit/base/io.hpp"
#include "crashkit/capture/arch.hpp"

namespace crashkit::capture {
namespace {

// /proc/vmcore of a multi-TiB NUMA machine has a few hundred PT_LOADs; anything near 2^20 is a
// corrupt header, and allocating for it would be the first thing to fail in a small capture kernel.
constexpr std::size_t kMaxPhdrs = 1u << 20;
// What the merged PT_NOTE of /proc/vmcore can hold (fs/proc/vmcore.c merges every CPU's notes,
// VMCOREINFO and device dumps into one segment): one NT_PRSTATUS note per possible CPU (356 bytes
// on x86_64; NR_CPUS is at most 8192 there, arch/x86/Kconfig NR_CPUS_RANGE_END with MAXSMP),
// the VMCOREINFO note (VMCOREINFO_BYTES = PAGE_SIZE since 4.x), and vmcoredd device dumps
// (CONFIG_PROC_VMCORE_DEVICE_DUMP, the only large notes). The total over all PT_NOTEs is capped,
// not only each one: aliased headers must not multiply what is read.
constexpr std::uint64_t kMaxNotesBytes = 64u << 20;
// Notes in all: 8192 CPUs' worth plus VMCOREINFO and device dumps, with room to spare.
constexpr std::size_t kMaxNotes = 1u << 16;
constexpr std::uint64_t kMaxPhysEnd = 1ULL << 52;

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

Error data_error(const std::string& path, std::string what) {
  return Error(ErrorCategory::data, std::move(what)).with_path(path);
}

/// The opened input, as the checks below need it.
struct Input {
  const std::string& path;
  int fd;
  bool regular;       ///< a regular file: sizes can be checked against its end
  std::uint64_t size; ///< file size (regular files)
};

// Checks the identification bytes ourselves first so a non-ELF file gets a plain message.
Status check_ident(const Input& in) {
  unsigned char ident[EI_NIDENT];
  const std::size_t got = CK_TRY(pread_some(in.fd, ident, sizeof ident, 0, in.path));
  if (got < SELFMAG || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
    return data_error(in.path, "not an ELF file (no \\177ELF magic at offset 0)");
  if (in.regular && in.size < sizeof(Elf64_Ehdr))
    return data_error(in.path, "file ends at offset " + hex(in.size) +
                                   ", inside the 64-byte ELF header: truncated vmcore");
  if (ident[EI_CLASS] != ELFCLASS64)
    return data_error(in.path, "not an ELF64 core (EI_CLASS is " + std::to_string(ident[EI_CLASS]) +
                                   "); only 64-bit vmcores are supported");
  if (ident[EI_DATA] != ELFDATA2LSB)
    return data_error(in.path, "big-endian vmcore not supported");
  return {};
}

/// The program header count, checked against the raw header and the file size.
Result<std::size_t> program_header_count(const Input& in, Elf* elf, const GElf_Ehdr& eh) {
  const std::string& path = in.path;
  // Check the raw header before libelf: it quietly caps a count that does not fit the file.
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    return data_error(path, "e_phentsize is " + std::to_string(eh.e_phentsize) +
                                ", not 56 (ELF header at offset 0x36)");
  if (eh.e_phnum != PN_XNUM && in.regular &&
      eh.e_phoff + std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr) > in.size)
    return data_error(path, std::to_string(eh.e_phnum) + " program headers at offset " +
                                hex(eh.e_phoff) + " extend past the end of the file (" +
                                hex(in.size) + " bytes): corrupt e_phnum or truncated vmcore");
  std::size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0)
    return data_error(path, std::string("program header count: ") + elf_errmsg(-1));
  if (phnum == 0)
    return data_error(path, "no program headers");
  if (eh.e_phnum != PN_XNUM && phnum != eh.e_phnum)
    return data_error(path, "program header count " + std::to_string(eh.e_phnum) +
                                " cannot be read (libelf sees " + std::to_string(phnum) + ")");
  if (phnum > kMaxPhdrs)
    return data_error(path, "absurd program header count " + std::to_string(phnum));
  if (in.regular && eh.e_phoff + phnum * sizeof(Elf64_Phdr) > in.size)
    return data_error(path, "program headers (" + std::to_string(phnum) + " at offset " +
                                hex(eh.e_phoff) + ") extend past the end of the file (" +
                                hex(in.size) + " bytes)");
  return phnum;
}

/// The PT_LOADs (in header order, empty ones dropped) and PT_NOTE file ranges of the core.
struct Segments {
  std::vector<LoadSegment> loads;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> note_ranges;
  std::uint64_t notes_total = 0;
};

// One PT_LOAD or PT_NOTE header: inside the file, clear of the header table, sane sizes.
Status check_segment(const Input& in, const GElf_Ehdr& eh, std::size_t phnum, const GElf_Phdr& ph,
                     const std::string& where) {
  const std::string& path = in.path;
  // Segment data follows the header table in every core the kernel writes; a table that
  // runs into it means e_phnum is wrong and the "headers" past the real ones are data.
  const std::uint64_t table_end = eh.e_phoff + phnum * sizeof(Elf64_Phdr);
  if (ph.p_filesz > 0 && ph.p_offset < table_end && ph.p_offset + ph.p_filesz > eh.e_phoff)
    return data_error(path, "program header table (" + std::to_string(phnum) +
                                " entries at offset " + hex(eh.e_phoff) + ") overlaps " + where +
                                ": corrupt e_phnum");
  if (ph.p_offset + ph.p_filesz < ph.p_offset)
    return data_error(path, where + ": offset + size overflows");
  if (in.regular && ph.p_offset + ph.p_filesz > in.size)
    return data_error(path, where + ": segment of " + hex(ph.p_filesz) +
                                " bytes extends past the end of the file (" + hex(in.size) +
                                " bytes): truncated vmcore");
  if (ph.p_type == PT_LOAD) {
    if (ph.p_filesz > ph.p_memsz)
      return data_error(path,
                        where + ": p_filesz " + hex(ph.p_filesz) + " > p_memsz " + hex(ph.p_memsz));
    // 52 bits is the architectural limit of physical addresses on x86_64 (and arm64); a core
    // claiming more is corrupt, and sizing bitmaps from it would take forever.
    if (ph.p_paddr + ph.p_memsz < ph.p_paddr || ph.p_paddr + ph.p_memsz > kMaxPhysEnd)
      return data_error(path, where + ": physical range " + hex(ph.p_paddr) + "+" +
                                  hex(ph.p_memsz) + " is beyond 52-bit physical addresses");
  }
  return {};
}

Status add_note_range(const Input& in, const GElf_Phdr& ph, const std::string& where,
                      Segments& seg) {
  if (ph.p_filesz > kMaxNotesBytes)
    return data_error(in.path, where + ": absurd note size " + hex(ph.p_filesz));
  seg.notes_total += ph.p_filesz;
  if (seg.notes_total > kMaxNotesBytes)
    return data_error(in.path, where + ": the PT_NOTE segments total " + hex(seg.notes_total) +
                                   " bytes, more than any kernel writes (" + hex(kMaxNotesBytes) +
                                   ")");
  seg.note_ranges.emplace_back(ph.p_offset, ph.p_filesz);
  return {};
}

Result<Segments> read_segments(const Input& in, Elf* elf, const GElf_Ehdr& eh, std::size_t phnum) {
  Segments seg;
  for (std::size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf, static_cast<int>(i), &ph))
      return data_error(in.path, "program header #" + std::to_string(i) + " at offset " +
                                     hex(eh.e_phoff + i * sizeof(Elf64_Phdr)) + ": " +
                                     elf_errmsg(-1));
    const std::string where = (ph.p_type == PT_LOAD ? "PT_LOAD #" : "PT_NOTE #") +
                              std::to_string(i) + " at offset " + hex(ph.p_offset);
    if (ph.p_type == PT_NOTE)
      CK_TRY(add_note_range(in, ph, where, seg));
    if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
      continue;
    CK_TRY(check_segment(in, eh, phnum, ph, where));
    if (ph.p_type == PT_LOAD && ph.p_memsz != 0)
      seg.loads.push_back({ph.p_paddr, ph.p_vaddr, ph.p_offset, ph.p_filesz, ph.p_memsz});
  }
  if (seg.loads.empty())
    return data_error(in.path, "no PT_LOAD segments: nothing to dump");
  return seg;
}

// The kernel-text PT_LOAD of /proc/vmcore duplicates part of a System RAM range; keep the
// RAM ranges only, so every physical page belongs to exactly one segment. `sorted` is by paddr.
Result<std::vector<LoadSegment>> ram_segments(const std::string& path,
                                              const std::vector<LoadSegment>& sorted) {
  std::vector<LoadSegment> merged;
  for (const auto& s : sorted) {
    if (!merged.empty()) {
      auto& last = merged.back();
      if (s.paddr < last.paddr + last.memsz) {
        if (s.paddr + s.memsz <= last.paddr + last.memsz)
          continue; // contained: drop
        if (s.paddr == last.paddr) {
          last = s; // same start, larger: prefer the larger
          continue;
        }
        return data_error(path, "PT_LOADs overlap partially at physical " + hex(s.paddr));
      }
    }
    merged.push_back(s);
  }
  return merged;
}

/// Appends the notes of the PT_NOTE at [off, off+size) to `notes` and indexes them.
Status read_note_segment(const Input& in, Elf* elf, std::uint64_t off, std::uint64_t size,
                         std::vector<std::uint8_t>& notes, std::vector<NoteRef>& list) {
  const std::string& path = in.path;
  const std::size_t base = notes.size();
  notes.resize(base + size);
  CK_TRY(pread_full(in.fd, notes.data() + base, size, off, path));
  Elf_Data* d = elf_getdata_rawchunk(elf, static_cast<int64_t>(off), size, ELF_T_NHDR);
  if (!d)
    return data_error(path, "PT_NOTE at offset " + hex(off) + ": " + elf_errmsg(-1));
  std::size_t pos = 0;
  while (pos < d->d_size) {
    GElf_Nhdr nh;
    std::size_t name_off = 0, desc_off = 0;
    std::size_t next = gelf_getnote(d, pos, &nh, &name_off, &desc_off);
    if (next == 0) {
      // Kernels pad the note segment of /proc/vmcore with zeros after the last note.
      bool rest_zero = true;
      for (std::size_t k = pos; k < d->d_size; ++k)
        if (static_cast<const unsigned char*>(d->d_buf)[k] != 0)
          rest_zero = false;
      if (rest_zero)
        break;
      return data_error(path, "malformed ELF note at file offset " + hex(off + pos) +
                                  " (name or descriptor size runs past the PT_NOTE end)");
    }
    if (nh.n_namesz == 0 && nh.n_descsz == 0 && nh.n_type == 0)
      break;
    if (list.size() >= kMaxNotes)
      return data_error(path, "note at file offset " + hex(off + pos) + ": more than " +
                                  std::to_string(kMaxNotes) + " ELF notes");
    NoteRef n;
    if (nh.n_namesz > 0) {
      const char* nm = static_cast<const char*>(d->d_buf) + name_off;
      n.name.assign(nm, strnlen(nm, nh.n_namesz));
    }
    n.type = nh.n_type;
    n.desc_offset = base + desc_off;
    n.desc_size = nh.n_descsz;
    list.push_back(std::move(n));
    pos = next;
  }
  return {};
}

} // namespace

VmcoreFile::~VmcoreFile() = default;

Result<std::unique_ptr<VmcoreFile>> VmcoreFile::open(const std::string& path) {
  std::unique_ptr<VmcoreFile> f(new VmcoreFile());
  f->path_ = path;
  f->fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!f->fd_.valid())
    return Error::from_errno(errno, "open").with_path(path);
  struct stat st {};
  if (::fstat(f->fd_.get(), &st) != 0)
    return Error::from_errno(errno, "stat").with_path(path);
  f->regular_ = S_ISREG(st.st_mode);
  f->file_size_ = static_cast<std::uint64_t>(st.st_size);
  const Input in{path, f->fd_.get(), f->regular_, f->file_size_};
  CK_TRY(check_ident(in));

  elf_version(EV_CURRENT);
  std::unique_ptr<Elf, ElfCloser> elf(elf_begin(f->fd_.get(), ELF_C_READ, nullptr));
  if (!elf)
    return data_error(path, std::string("libelf: ") + elf_errmsg(-1));
  GElf_Ehdr eh;
  if (!gelf_getehdr(elf.get(), &eh))
    return data_error(path, std::string("ELF header: ") + elf_errmsg(-1));
  if (eh.e_type != ET_CORE)
    return data_error(path, "ELF type is " + std::to_string(eh.e_type) + ", not ET_CORE (4)");
  std::memcpy(f->identity_.ident, eh.e_ident, EI_NIDENT);
  f->identity_.machine = eh.e_machine;
  f->identity_.flags = eh.e_flags;

  const std::size_t phnum = CK_TRY(program_header_count(in, elf.get(), eh));
  Segments seg = CK_TRY(read_segments(in, elf.get(), eh, phnum));
  f->raw_loads_ = seg.loads;
  std::sort(seg.loads.begin(), seg.loads.end(),
            [](const LoadSegment& a, const LoadSegment& b) { return a.paddr < b.paddr; });
  f->loads_ = CK_TRY(ram_segments(path, seg.loads));
  for (auto& r : f->raw_loads_)
    r.alias = std::none_of(f->loads_.begin(), f->loads_.end(), [&](const LoadSegment& l) {
      return l.paddr == r.paddr && l.memsz == r.memsz && l.offset == r.offset;
    });
  for (auto [off, size] : seg.note_ranges)
    CK_TRY(read_note_segment(in, elf.get(), off, size, f->notes_, f->note_list_));
  return f;
}

std::string VmcoreFile::vmcoreinfo_text() const {
  for (const auto& n : note_list_)
    if (n.name == "VMCOREINFO")
      return std::string(
          reinterpret_cast<const char*>(notes_.data() + n.desc_offset),
          strnlen(reinterpret_cast<const char*>(notes_.data() + n.desc_offset), n.desc_size));
  return {};
}

const LoadSegment* VmcoreFile::kernel_text() const {
  const ArchInfo* arch = arch_for_machine(identity_.machine);
  if (!arch)
    return nullptr;
  for (const auto& s : raw_loads_)
    if (s.alias && s.vaddr >= arch->kernel_map_start)
      return &s;
  return nullptr;
}

int VmcoreFile::prstatus_count() const {
  int n = 0;
  for (const auto& note : note_list_)
    if (note.name == "CORE" && note.type == NT_PRSTATUS)
      ++n;
  return n;
}

const LoadSegment* VmcoreFile::segment_for(std::uint64_t paddr) const {
  auto it = std::upper_bound(loads_.begin(), loads_.end(), paddr,
                             [](std::uint64_t a, const LoadSegment& s) { return a < s.paddr; });
  if (it == loads_.begin())
    return nullptr;
  --it;
  if (paddr - it->paddr < it->memsz)
    return &*it;
  return nullptr;
}

Status VmcoreFile::read_phys(std::uint64_t paddr, void* buf, std::size_t len,
                             bool holes_as_zero) const {
  auto* out = static_cast<std::uint8_t*>(buf);
  while (len > 0) {
    const LoadSegment* s = segment_for(paddr);
    if (!s && holes_as_zero) {
      // Zero up to the next segment (or the end of the request).
      auto next =
          std::upper_bound(loads_.begin(), loads_.end(), paddr,
                           [](std::uint64_t a, const LoadSegment& l) { return a < l.paddr; });
      const std::uint64_t stop = next == loads_.end() ? paddr + len : next->paddr;
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, stop - paddr));
      std::memset(out, 0, n);
      out += n;
      paddr += n;
      len -= n;
      continue;
    }
    if (!s)
      return Error(ErrorCategory::data,
                   "physical address " + hex(paddr) + " is not in any PT_LOAD (memory hole)")
          .with_path(path_);
    std::uint64_t in_seg = paddr - s->paddr;
    std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(len, s->memsz - in_seg));
    std::size_t from_file = 0;
    if (in_seg < s->filesz) {
      from_file = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, s->filesz - in_seg));
      CK_TRY(pread_full(fd_.get(), out, from_file, s->offset + in_seg, path_));
    }
    std::memset(out + from_file, 0, chunk - from_file);
    out += chunk;
    paddr += chunk;
    len -= chunk;
  }
  return {};
}

} // namespace crashkit::capture
