#include "crashkit/initramfs/decompress.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <vector>

namespace crashkit::initramfs {

Result<std::string> decompress_whole(std::span<const char> data, const std::string& name) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  if (!a)
    return Error(ErrorCategory::internal, "cannot decompress: out of memory").with_path(name);
  auto failed = [&](const char* fallback) {
    const char* why = archive_error_string(a.get());
    return Error(ErrorCategory::data, std::string("cannot decompress: ") + (why ? why : fallback))
        .with_path(name);
  };
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
    return failed("unknown format");
  std::string out;
  std::vector<char> buf(1 << 16);
  la_ssize_t n;
  while ((n = archive_read_data(a.get(), buf.data(), buf.size())) > 0)
    out.append(buf.data(), static_cast<std::size_t>(n));
  if (n < 0)
    return failed("read error");
  return out;
}

} // namespace crashkit::initramfs
