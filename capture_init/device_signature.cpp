#include "crashkit/capture_init/device_signature.hpp"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <memory>
#include <type_traits>

#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture_init/dump_dir.hpp"

namespace crashkit::capture_init {
namespace {

struct ProbeFree {
  void operator()(blkid_probe p) const { blkid_free_probe(p); }
};
using ProbePtr = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeFree>;

std::string value_of(blkid_probe pr, const char* name) {
  const char* data = nullptr;
  if (blkid_probe_lookup_value(pr, name, &data, nullptr) != 0 || !data)
    return {};
  return data;
}

/// " UUID=x, LABEL=y" for the tags present.
std::string tags(blkid_probe pr, std::initializer_list<const char*> names) {
  std::string out;
  for (const char* n : names)
    if (const std::string v = value_of(pr, n); !v.empty())
      out += (out.empty() ? " " : ", ") + std::string(n) + "=" + v;
  return out;
}

} // namespace

Result<std::optional<std::string>> probe_foreign_signature(const std::string& path) {
  // One descriptor for both looks, so they read the same device even when a by-id link moves;
  // O_NONBLOCK as libblkid's own open: a drive without a medium answers instead of waiting.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid())
    return Error::from_errno(errno, "open").with_path(path);
  // An earlier capture's stream may hold bytes that look like a superblock further in (the
  // dump's pages are anything): crashkit's own start is decided first.
  if (CK_TRY(probe_dump_file(fd.get(), path)) != DumpFileFormat::unknown)
    return std::optional<std::string>();

  ProbePtr pr(blkid_new_probe());
  if (!pr || blkid_probe_set_device(pr.get(), fd.get(), 0, 0) != 0)
    return Error(ErrorCategory::internal, "libblkid cannot probe it").with_path(path);
  blkid_probe_enable_superblocks(pr.get(), 1);
  blkid_probe_set_superblocks_flags(pr.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
                                                  BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
  blkid_probe_enable_partitions(pr.get(), 1);
  const int rc = blkid_do_safeprobe(pr.get());
  if (rc == 1)
    return std::optional<std::string>();
  // Ambivalent: signatures of several types; wipefs lists them all.
  if (rc == -2)
    return std::optional<std::string>("signatures of more than one type (wipefs lists them)");
  if (rc != 0)
    return Error(ErrorCategory::io, "libblkid probe failed").with_path(path);
  if (const std::string type = value_of(pr.get(), "TYPE"); !type.empty())
    return std::optional<std::string>(
        type + (value_of(pr.get(), "USAGE") == "filesystem" ? " filesystem" : " signature") +
        tags(pr.get(), {"UUID", "LABEL"}));
  if (const std::string pt = value_of(pr.get(), "PTTYPE"); !pt.empty())
    return std::optional<std::string>(pt + " partition table" + tags(pr.get(), {"PTUUID"}));
  return std::optional<std::string>();
}

Error foreign_signature_refusal(const std::string& device, const std::string& signature) {
  return Error(ErrorCategory::unsupported,
               "raw dump target " + device + " is not empty: " + signature +
                   "; a raw target is written from its first byte, which would destroy that; "
                   "once sure nothing on it is needed, clear it with wipefs -a " +
                   device + ", or name another device");
}

} // namespace crashkit::capture_init
