#include "crashkit/capture/output_sink.hpp"
#include "crashkit/base/hex.hpp"

#include <endian.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "crashkit/base/io.hpp"
#include "direct_writer.hpp"

namespace crashkit::capture {
namespace {

constexpr std::size_t kFlatHeaderSize = 4096;
constexpr std::int64_t kFlatTypeHeader = 1;
constexpr std::int64_t kFlatVersion = 1;
// Records are split so a reader never needs more than this in one buffer.
constexpr std::size_t kMaxRecord = 1u << 20;

Result<UniqueFd> create_incomplete(const std::string& path, bool force, std::string& tmp) {
  struct stat st {};
  // lstat: a dangling link at OUTPUT exists too (rename replaces the link, never its target).
  if (::lstat(path.c_str(), &st) == 0 && !force)
    return Error(ErrorCategory::exists, "output exists (use -f to overwrite)").with_path(path);
  tmp = path + ".incomplete";
  // A leftover .incomplete is our own earlier partial output: it goes (a link is removed, not
  // followed), and the new one is created, never opened: whatever someone else put under the
  // name in between makes the create fail instead of receiving the dump.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT)
    return Error::from_errno(errno, "remove the leftover").with_path(tmp);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid())
    return Error::from_errno(errno, "create").with_path(tmp);
  return fd;
}

Status sync_file(int fd, const std::string& name) {
  if (::fdatasync(fd) != 0)
    return Error::from_errno(errno, "fdatasync").with_path(name);
  return {};
}

Status finish_file(int fd, const std::string& tmp, const std::string& path) {
  CK_TRY(sync_file(fd, tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Error::from_errno(errno, "rename to " + path).with_path(tmp);
  return fsync_parent_dir(path);
}

} // namespace

Result<std::unique_ptr<FileSink>> FileSink::create(const std::string& path, bool force,
                                                   bool direct_io) {
  std::unique_ptr<FileSink> s(new FileSink());
  s->path_ = path;
  s->fd_ = CK_TRY(create_incomplete(path, force, s->tmp_path_));
  if (direct_io) {
    // tmpfs (before 6.6) and some network filesystems refuse O_DIRECT: then stay buffered.
    // The second descriptor must be the file just created, not whatever the name holds now.
    s->direct_fd_.reset(::open(s->tmp_path_.c_str(), O_WRONLY | O_DIRECT | O_NOFOLLOW | O_CLOEXEC));
    struct stat made {
    }, reopened{};
    if (s->direct_fd_.valid() &&
        (::fstat(s->fd_.get(), &made) != 0 || ::fstat(s->direct_fd_.get(), &reopened) != 0 ||
         made.st_dev != reopened.st_dev || made.st_ino != reopened.st_ino))
      s->direct_fd_.reset();
    s->direct_ = std::make_unique<DirectWriter>(s->fd_.get(), s->direct_fd_.get(), s->tmp_path_);
  }
  return s;
}

FileSink::~FileSink() = default;

Status FileSink::write_at(std::uint64_t off, const void* data, std::size_t len) {
  if (direct_)
    CK_TRY(direct_->write_at(off, data, len));
  else
    CK_TRY(pwrite_full(fd_.get(), data, len, off, tmp_path_));
  bytes_ += len;
  return {};
}

Status FileSink::finish() {
  if (direct_)
    CK_TRY(direct_->flush_all());
  return finish_file(fd_.get(), tmp_path_, path_);
}

Status FileSink::flush() {
  return direct_ ? direct_->flush_all() : Status{};
}

Status FileSink::sync_data() {
  CK_TRY(flush());
  return sync_file(fd_.get(), tmp_path_);
}

FlatSink::FlatSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

Status FlatSink::ensure_header() {
  if (header_done_)
    return {};
  std::vector<std::uint8_t> h(kFlatHeaderSize, 0);
  std::memcpy(h.data(), kFlatSignature, sizeof kFlatSignature - 1);
  const std::uint64_t type = htobe64(static_cast<std::uint64_t>(kFlatTypeHeader));
  const std::uint64_t ver = htobe64(static_cast<std::uint64_t>(kFlatVersion));
  std::memcpy(h.data() + 16, &type, 8);
  std::memcpy(h.data() + 24, &ver, 8);
  CK_TRY(write_full(fd_, h.data(), h.size(), name_));
  bytes_ += h.size();
  header_done_ = true;
  return {};
}

Status FlatSink::write_at(std::uint64_t off, const void* data, std::size_t len) {
  CK_TRY(ensure_header());
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (len > 0) { // never a zero-length record: -R treats it as the end
    const std::size_t n = std::min(len, kMaxRecord);
    std::uint64_t rec[2] = {htobe64(off), htobe64(static_cast<std::uint64_t>(n))};
    CK_TRY(write_full(fd_, rec, sizeof rec, name_));
    CK_TRY(write_full(fd_, p, n, name_));
    bytes_ += sizeof rec + n;
    p += n;
    off += n;
    len -= n;
  }
  return {};
}

Status FlatSink::finish() {
  CK_TRY(ensure_header());
  std::uint64_t end[2] = {~0ULL, ~0ULL};
  CK_TRY(write_full(fd_, end, sizeof end, name_));
  bytes_ += sizeof end;
  return {};
}

namespace {

// The loop of both reassemblies. A stream that ends early (EOF, or bytes that are not a record
// where the next one should start) leaves `cut` set and `output`.incomplete holding every whole
// record before that point: a record is read whole (records of up to kMaxRecord bytes, all a
// FlatSink writes) before any of it is written, so a cut record is never half applied.
Result<FlatReassembly> reassemble(int in_fd, const std::string& in_name, const std::string& output,
                                  bool force, std::optional<Error>& cut) {
  FlatReassembly out;
  std::vector<std::uint8_t> h(kFlatHeaderSize);
  const std::size_t got = CK_TRY(read_full(in_fd, h.data(), h.size(), in_name));
  if (got < 32 || std::memcmp(h.data(), kFlatSignature, sizeof kFlatSignature - 1) != 0)
    return Error(ErrorCategory::data,
                 "not a flattened dump stream (no \"makedumpfile\" signature at offset 0)")
        .with_path(in_name);
  std::uint64_t type, ver;
  std::memcpy(&type, h.data() + 16, 8);
  std::memcpy(&ver, h.data() + 24, 8);
  if (be64toh(type) != kFlatTypeHeader || be64toh(ver) != kFlatVersion)
    return Error(ErrorCategory::data, "unsupported flattened stream type/version " +
                                          std::to_string(be64toh(type)) + "/" +
                                          std::to_string(be64toh(ver)))
        .with_path(in_name);
  out.stream_bytes = out.stream_end = got;
  if (got < kFlatHeaderSize) {
    cut = Error(ErrorCategory::data, "stream ends inside the 4096-byte header").with_path(in_name);
    return out;
  }

  std::string tmp;
  auto fd = CK_TRY(create_incomplete(output, force, tmp));
  out.output = tmp;
  std::uint64_t pos = kFlatHeaderSize;
  std::vector<std::uint8_t> buf(kMaxRecord);
  for (;;) {
    out.stream_bytes = out.stream_end = pos;
    std::uint64_t rec[2];
    const std::size_t n = CK_TRY(read_full(in_fd, rec, sizeof rec, in_name));
    if (n != sizeof rec) {
      cut = Error(ErrorCategory::data,
                  "stream ends without the end marker (record header truncated; the dump in " +
                      tmp + " is incomplete)")
                .with_path(in_name)
                .with_offset(pos);
      break;
    }
    const auto off = static_cast<std::int64_t>(be64toh(rec[0]));
    const auto size = static_cast<std::int64_t>(be64toh(rec[1]));
    if (off == -1 && size == -1) {
      out.stream_bytes = out.stream_end = pos + sizeof rec;
      out.complete = true;
      break;
    }
    out.stream_end = pos + sizeof rec;
    if (off < 0 || size <= 0 || size > (std::int64_t{1} << 40)) {
      cut = Error(ErrorCategory::data, "bad record header (offset " + std::to_string(off) +
                                           ", size " + std::to_string(size) + ")")
                .with_path(in_name)
                .with_offset(pos);
      break;
    }
    const std::uint64_t rec_pos = pos;
    out.stream_end = rec_pos + sizeof rec + static_cast<std::uint64_t>(size);
    auto left = static_cast<std::uint64_t>(size);
    auto dst = static_cast<std::uint64_t>(off);
    bool whole = true;
    while (left > 0) {
      const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      const std::size_t r = CK_TRY(read_full(in_fd, buf.data(), chunk, in_name));
      if (r != chunk) {
        cut = Error(ErrorCategory::data, "stream ends inside a record of " + std::to_string(size) +
                                             " bytes for offset " +
                                             hex(static_cast<std::uint64_t>(off)))
                  .with_path(in_name)
                  .with_offset(rec_pos + sizeof rec + (dst - static_cast<std::uint64_t>(off)));
        whole = false;
        break;
      }
      CK_TRY(pwrite_full(fd.get(), buf.data(), chunk, dst, tmp));
      dst += chunk;
      left -= chunk;
    }
    if (!whole)
      break;
    pos = rec_pos + sizeof rec + static_cast<std::uint64_t>(size);
  }
  if (out.complete) {
    CK_TRY(finish_file(fd.get(), tmp, output));
    out.output = output;
    return out;
  }
  // Kept as it is: durable before anyone discards the stream it came from.
  CK_TRY(sync_file(fd.get(), tmp));
  CK_TRY(fsync_parent_dir(tmp));
  return out;
}

} // namespace

Status reassemble_flattened(int in_fd, const std::string& in_name, const std::string& output,
                            bool force) {
  std::optional<Error> cut;
  CK_TRY(reassemble(in_fd, in_name, output, force, cut));
  if (cut)
    return std::move(*cut);
  return {};
}

Result<FlatReassembly> reassemble_flattened_partial(int in_fd, const std::string& in_name,
                                                    const std::string& output, bool force) {
  std::optional<Error> cut;
  auto r = reassemble(in_fd, in_name, output, force, cut);
  if (r && cut)
    r->cut = cut->message();
  return r;
}

} // namespace crashkit::capture
