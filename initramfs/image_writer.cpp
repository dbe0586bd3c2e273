#include "crashkit/initramfs/image_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <zstd.h>

#include <memory>

namespace crashkit::initramfs {
namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryCloser {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t append_to_string(archive*, void* client, const void* buf, size_t len) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), len);
  return static_cast<la_ssize_t>(len);
}

Error archive_error(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Error(ErrorCategory::internal,
               "libarchive: " + what + ": " + (msg ? msg : "unknown error"),
               archive_errno(a) > 0 ? archive_errno(a) : 0);
}

} // namespace

void ImageContents::add_parents(const std::string& path) {
  for (auto slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (!entries_.count(dir))
      entries_[dir] = ImageEntry{ImageEntry::Kind::directory, 0755, {}, 0, 0};
  }
}

void ImageContents::add_file(const std::string& path, std::string data, std::uint32_t mode) {
  add_parents(path);
  entries_[path] = ImageEntry{ImageEntry::Kind::file, mode & 07777, std::move(data), 0, 0};
}

void ImageContents::add_directory(const std::string& path, std::uint32_t mode) {
  add_parents(path);
  entries_[path] = ImageEntry{ImageEntry::Kind::directory, mode & 07777, {}, 0, 0};
}

void ImageContents::add_char_device(const std::string& path, std::uint32_t major,
                                    std::uint32_t minor, std::uint32_t mode) {
  add_parents(path);
  entries_[path] = ImageEntry{ImageEntry::Kind::char_device, mode & 07777, {}, major, minor};
}

std::uint64_t ImageContents::file_bytes() const {
  std::uint64_t n = 0;
  for (const auto& [path, e] : entries_)
    if (e.kind == ImageEntry::Kind::file)
      n += e.data.size();
  return n;
}

Result<std::string> write_newc_zstd(const ImageContents& contents, int zstd_level) {
  std::unique_ptr<archive, ArchiveCloser> a(archive_write_new());
  if (!a)
    return Error(ErrorCategory::internal, "libarchive: out of memory");
  std::string out;
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK)
    return archive_error(a.get(), "newc format");
  // libarchive writes the newc archive; libzstd compresses it below, because the window size
  // matters here and libarchive's zstd filter cannot set it (see compress_for_kernel).
  if (archive_write_add_filter_none(a.get()) != ARCHIVE_OK)
    return archive_error(a.get(), "no filter");
  // No padding of the last block: the kernel skips zeros after a compressed archive, but
  // other readers need not.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open2(a.get(), &out, nullptr, append_to_string, nullptr, nullptr) != ARCHIVE_OK)
    return archive_error(a.get(), "open");

  std::int64_t ino = 0;
  for (const auto& [path, e] : contents.entries()) {
    std::unique_ptr<archive_entry, EntryCloser> entry(archive_entry_new());
    // newc names are relative, as the kernel's gen_init_cpio writes them.
    archive_entry_set_pathname(entry.get(), path.c_str() + 1);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), 0, 0);
    archive_entry_set_ino64(entry.get(), ++ino);
    archive_entry_set_dev(entry.get(), 0);
    switch (e.kind) {
    case ImageEntry::Kind::directory:
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
      archive_entry_set_nlink(entry.get(), 2);
      archive_entry_set_size(entry.get(), 0);
      break;
    case ImageEntry::Kind::file:
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_nlink(entry.get(), 1);
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.data.size()));
      break;
    case ImageEntry::Kind::char_device:
      archive_entry_set_filetype(entry.get(), AE_IFCHR);
      archive_entry_set_nlink(entry.get(), 1);
      archive_entry_set_size(entry.get(), 0);
      archive_entry_set_rdevmajor(entry.get(), e.rdev_major);
      archive_entry_set_rdevminor(entry.get(), e.rdev_minor);
      break;
    }
    archive_entry_set_perm(entry.get(), e.mode);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK)
      return archive_error(a.get(), "header").with_path(path);
    if (e.kind == ImageEntry::Kind::file && !e.data.empty()) {
      const la_ssize_t n = archive_write_data(a.get(), e.data.data(), e.data.size());
      if (n < 0 || static_cast<std::size_t>(n) != e.data.size())
        return archive_error(a.get(), "data").with_path(path);
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK)
    return archive_error(a.get(), "close");
  return compress_for_kernel(out, zstd_level);
}

Result<std::string> compress_for_kernel(const std::string& cpio, int zstd_level) {
  // The kernel's initramfs unpacker allocates the whole zstd window up front. Level 19 picks an
  // 8 MiB window, and in a 96M crash reservation that allocation is what runs the capture
  // kernel out of memory (measured: OOM while unpacking at 96M with an 8 MiB window, fine with
  // 1 MiB; the image grows by ~5 %).
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!cctx)
    return Error(ErrorCategory::internal, "zstd: out of memory");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, zstd_level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_windowLog, kInitramfsWindowLog);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  std::string out(ZSTD_compressBound(cpio.size()), '\0');
  const std::size_t n =
      ZSTD_compress2(cctx.get(), out.data(), out.size(), cpio.data(), cpio.size());
  if (ZSTD_isError(n))
    return Error(ErrorCategory::internal, std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

} // namespace crashkit::initramfs
