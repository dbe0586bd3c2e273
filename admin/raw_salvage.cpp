#include "crashkit/admin/raw_salvage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "crashkit/base/io.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/output_sink.hpp"

namespace crashkit::admin {
namespace fs = std::filesystem;

Result<SalvageOutcome> salvage_raw_dump(const conf::Config& c, const std::string& root,
                                        const std::string& stamp) {
  SalvageOutcome out;
  const auto& t = c.target.value;
  if (t.kind != conf::Target::Kind::raw) return out;
  const std::string dev = root + t.device.value;
  UniqueFd in(::open(dev.c_str(), O_RDWR | O_CLOEXEC));
  if (!in.valid()) return std::move(Error::from_errno(errno, "raw dump target").with_path(dev));
  char head[sizeof capture::kFlatSignature] = {};
  auto n = pread_some(in.get(), head, sizeof head, 0, dev);
  if (!n) return std::move(n).error();
  if (*n < sizeof head ||
      std::memcmp(head, capture::kFlatSignature, sizeof capture::kFlatSignature - 1) != 0)
    return out;

  const fs::path dir = fs::path(root + c.path.value) / stamp;
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return std::move(Error::from_errno(errno, "cannot create").with_path(dir.string()));
  out.vmcore = (dir / "vmcore").string();
  // Durable on return: vmcore.incomplete (0600) is fdatasynced, renamed, the directory fsynced.
  CK_TRY_STATUS(capture::reassemble_flattened(in.get(), dev, out.vmcore, false));
  // Only now is the copy safe: clear the signature so the next start does not salvage again.
  std::vector<char> zeros(4096, 0);
  CK_TRY_STATUS(pwrite_full(in.get(), zeros.data(), zeros.size(), 0, dev));
  if (::fsync(in.get()) != 0) return std::move(Error::from_errno(errno, "cannot sync").with_path(dev));
  out.found = true;
  return out;
}

}  // namespace crashkit::admin
