#include "crashkit/admin/raw_salvage.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <vector>

#include "crashkit/admin/dump_check.hpp"
#include "crashkit/base/io.hpp"
#include "crashkit/base/unique_fd.hpp"
#include "crashkit/capture/output_sink.hpp"
#include "crashkit/capture_init/dump_dir.hpp"

namespace crashkit::admin {
namespace fs = std::filesystem;
namespace {

// The flattened stream's header: its signature lives in the first block.
constexpr std::uint64_t kFlatHeaderBytes = 4096;

// Zeroes [begin, end) of the device (or the regular file standing in for it), clipped to its
// size: BLKZEROOUT lets the device do it (it falls back to writing zeros itself); a file gets
// a hole, or zeros where holes are not supported.
Status zero_range(int fd, const std::string& dev, std::uint64_t begin, std::uint64_t end) {
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return Error::from_errno(errno, "fstat").with_path(dev);
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode) && ::ioctl(fd, BLKGETSIZE64, &size) != 0)
    return Error::from_errno(errno, "device size").with_path(dev);
  end = std::min(end, size);
  if (end <= begin)
    return {};
  if (S_ISBLK(st.st_mode)) {
    // BLKZEROOUT takes 512-byte units; the device size is one.
    std::uint64_t range[2] = {begin, std::min(size, (end + 511) / 512 * 512) - begin};
    if (::ioctl(fd, BLKZEROOUT, range) != 0)
      return Error::from_errno(errno, "BLKZEROOUT").with_path(dev).with_offset(begin);
  } else if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(begin),
                         static_cast<off_t>(end - begin)) != 0) {
    if (errno != EOPNOTSUPP)
      return Error::from_errno(errno, "punch a hole").with_path(dev).with_offset(begin);
    std::vector<char> zeros(1u << 20, 0);
    for (std::uint64_t at = begin; at < end; at += zeros.size())
      CK_TRY(pwrite_full(fd, zeros.data(),
                         static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), end - at)),
                         at, dev));
  }
  if (::fsync(fd) != 0)
    return Error::from_errno(errno, "cannot sync").with_path(dev);
  return {};
}

} // namespace

Result<SalvageOutcome> salvage_raw_dump(const conf::Config& c, const std::string& root,
                                        const std::string& stamp) {
  SalvageOutcome out;
  const auto& t = c.target.value;
  if (t.kind != conf::Target::Kind::raw)
    return out;
  const std::string dev = root + t.device.value;
  UniqueFd in(::open(dev.c_str(), O_RDWR | O_CLOEXEC));
  if (!in.valid())
    return Error::from_errno(errno, "raw dump target").with_path(dev);
  if (CK_TRY(capture_init::probe_dump_file(in.get(), dev)) != capture_init::DumpFileFormat::flat)
    return out;

  const fs::path dir = fs::path(root + c.path.value) / stamp;
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Error::from_errno(errno, "cannot create").with_path(dir.string());
  // A failed copy leaves nothing behind: the next start tries again with the device unchanged,
  // and no boot adds a directory the disk has to hold.
  const auto discard = [&](Error e) -> Error {
    fs::remove(dir / capture_init::kIncompleteVmcoreFile, ec);
    ::rmdir(dir.c_str());
    return e;
  };
  // Durable on return: the file is fdatasynced (and renamed when complete), the directory
  // fsynced. A stream cut short (the capture kernel died, the device filled) keeps its whole
  // records in vmcore.incomplete.
  auto re = capture::reassemble_flattened_partial(
      in.get(), dev, (dir / capture_init::kVmcoreFile).string(), false);
  if (!re)
    return discard(std::move(re).error());
  out.found = true;
  out.complete = re->complete;
  out.vmcore = re->output;
  out.cut = re->cut;
  if (!re->complete && !re->output.empty()) {
    // Readable as an incomplete dump, as the capture's own writers leave one. A stream that
    // ended before the dump's headers were whole holds nothing crash could open: not kept.
    if (auto m = mark_kdump_incomplete(re->output); !m) {
      if (m.error().category() != ErrorCategory::data)
        return discard(std::move(m).error());
      out.cut += "; " + m.error().message();
      out.vmcore.clear();
      (void)discard(std::move(m).error());
    }
  }
  if (out.vmcore.empty())
    ::rmdir(dir.c_str());
  // The copy is durable: clear the stream's signature, as kdumpctl's save_raw wipes the
  // device's first block after makedumpfile -R, so no later start copies this stream again.
  std::vector<char> zeros(kFlatHeaderBytes, 0);
  CK_TRY(pwrite_full(in.get(), zeros.data(), zeros.size(), 0, dev));
  if (::fsync(in.get()) != 0)
    return Error::from_errno(errno, "cannot sync").with_path(dev);
  // Then its records: the next crash's stream, cut short at a record boundary, would otherwise
  // run on into this one's records and mix two crashes in one dump. The signature went first,
  // so an interruption here never makes a second copy.
  if (auto z = zero_range(in.get(), dev, kFlatHeaderBytes, re->stream_end); !z)
    out.warning = "the rest of the old stream was not cleared: " + z.error().message();
  return out;
}

} // namespace crashkit::admin
