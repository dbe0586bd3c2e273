#pragma once
/// The input: an ELF64 core of the crashed kernel's RAM (/proc/vmcore or a copy of it).
/// Headers and notes are parsed with libelf; read_phys() reads with pread. Bulk page data goes
/// through PageReader (page_reader.hpp), which maps /proc/vmcore in windows.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::capture {

/// One PT_LOAD of the core: physical range [paddr, paddr+memsz), file bytes [offset,
/// offset+filesz). Bytes beyond filesz read as zero.
struct LoadSegment {
  std::uint64_t paddr = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t offset = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  /// A second view of RAM another segment holds (the kernel-text PT_LOAD); raw_loads() only.
  bool alias = false;
};

/// One ELF note of the PT_NOTE segment(s), as positions inside notes().
struct NoteRef {
  std::string name;
  std::uint32_t type = 0;
  std::size_t desc_offset = 0; ///< offset of the descriptor inside notes()
  std::size_t desc_size = 0;
};

/// ELF header fields the ELF writer copies.
struct CoreIdentity {
  unsigned char ident[16] = {};
  std::uint16_t machine = 0;
  std::uint32_t flags = 0;
};

class VmcoreFile {
public:
  /// Opens and validates the core: ELF64 ET_CORE, sane phdr counts, segments inside the file
  /// (a truncated file is reported naming the PT_LOAD and offset), notes well-formed.
  static Result<std::unique_ptr<VmcoreFile>> open(const std::string& path);
  ~VmcoreFile();

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  const CoreIdentity& identity() const { return identity_; }
  /// PT_LOADs sorted by physical address, with segments contained in another (the kernel-text
  /// alias of RAM) dropped: every physical page belongs to exactly one of these.
  const std::vector<LoadSegment>& loads() const { return loads_; }
  /// All PT_LOADs in file order, aliases included (the ELF writer keeps their virtual addresses).
  const std::vector<LoadSegment>& raw_loads() const { return raw_loads_; }
  /// The PT_NOTE contents, concatenated in file order (what dumps copy verbatim).
  const std::vector<std::uint8_t>& notes() const { return notes_; }
  const std::vector<NoteRef>& note_list() const { return note_list_; }
  /// The kernel-text PT_LOAD (an alias of the RAM holding the kernel image), or nullptr.
  const LoadSegment* kernel_text() const;
  /// The VMCOREINFO note text, empty when absent.
  std::string vmcoreinfo_text() const;
  /// Count of NT_PRSTATUS notes (one per CPU that was online).
  int prstatus_count() const;
  /// True when the input is a regular file: holes can be found with SEEK_DATA.
  bool is_regular_file() const { return regular_; }
  std::uint64_t file_size() const { return file_size_; }

  /// Segment containing physical address, or nullptr (memory hole).
  const LoadSegment* segment_for(std::uint64_t paddr) const;

  /// Reads physical memory (pread path; thread-safe). A hole is a data error unless
  /// holes_as_zero (a page that a PT_LOAD covers only partly); EIO is an io error naming the
  /// file offset.
  Status read_phys(std::uint64_t paddr, void* buf, std::size_t len,
                   bool holes_as_zero = false) const;

private:
  VmcoreFile() = default;
  std::string path_;
  UniqueFd fd_;
  bool regular_ = false;
  std::uint64_t file_size_ = 0;
  CoreIdentity identity_;
  std::vector<LoadSegment> loads_;
  std::vector<LoadSegment> raw_loads_;
  std::vector<std::uint8_t> notes_;
  std::vector<NoteRef> note_list_;
};

} // namespace crashkit::capture
