#pragma once
/// Where a dump goes. Writers address the final file by offset; a FileSink puts the bytes there
/// (OUTPUT.incomplete, synced and renamed at the end), a FlatSink turns every write into a
/// makedumpfile flattened-format record on a stream (stdout, a pipe to ssh).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::capture {

class OutputSink {
public:
  virtual ~OutputSink() = default;
  virtual Status write_at(std::uint64_t off, const void* data, std::size_t len) = 0;
  /// Makes the output final (sync + rename, or the stream end marker).
  virtual Status finish() = 0;
  /// Name for messages.
  virtual const std::string& name() const = 0;
  /// True for a stream: a reader may use the first copy of a rewritten range (crash does for
  /// flattened files), so writers must not write provisional headers.
  virtual bool is_stream() const { return false; }
  /// The file descriptor of a random-access output (for preallocation and repair), else -1.
  virtual int file_fd() const { return -1; }
  /// Writes whatever is staged, continuing past errors (used when a dump has failed).
  virtual Status flush_staged() { return {}; }
  /// Makes every byte written so far durable (a file: staged bytes out, then fdatasync; a
  /// stream: nothing). Errors name the output.
  virtual Status sync_data() { return {}; }
  /// Bytes handed to the sink so far.
  std::uint64_t bytes_written() const { return bytes_; }

protected:
  std::uint64_t bytes_ = 0;
};

class FileSink final : public OutputSink {
public:
  /// Creates `path`.incomplete (O_EXCL|O_NOFOLLOW, after removing a leftover one: a link there
  /// is removed, never written through). Fails with an `exists` error when path exists (a
  /// link too) and !force.
  /// With direct_io, long sequential writes bypass the page cache (O_DIRECT), where the
  /// filesystem allows it.
  static Result<std::unique_ptr<FileSink>> create(const std::string& path, bool force,
                                                  bool direct_io = false);
  ~FileSink() override;
  Status write_at(std::uint64_t off, const void* data, std::size_t len) override;
  /// fdatasync, rename to the final name, fsync the directory.
  Status finish() override;
  /// Writes staged bytes without finishing (a failed dump keeps what it had).
  Status flush();
  int file_fd() const override { return fd_.get(); }
  Status flush_staged() override { return flush(); }
  Status sync_data() override;
  const std::string& name() const override { return tmp_path_; }
  const std::string& final_path() const { return path_; }
  int fd() const { return fd_.get(); }

private:
  std::string path_, tmp_path_;
  UniqueFd fd_;
  UniqueFd direct_fd_;
  std::unique_ptr<class DirectWriter> direct_;
};

/// The flattened stream's signature at offset 0 of its header ("makedumpfile", NUL padded).
inline constexpr char kFlatSignature[] = "makedumpfile";

/// Flattened stream: a 4096-byte header ("makedumpfile", type 1, version 1, big-endian), then
/// records {be64 offset, be64 size, bytes}, then the end marker {-1, -1}.
class FlatSink final : public OutputSink {
public:
  FlatSink(int fd, std::string name);
  Status write_at(std::uint64_t off, const void* data, std::size_t len) override;
  Status finish() override;
  const std::string& name() const override { return name_; }
  bool is_stream() const override { return true; }

private:
  Status ensure_header();
  int fd_;
  std::string name_;
  bool header_done_ = false;
};

/// Rebuilds the random-access file from a flattened stream (makedumpfile -R). Writes
/// `output`.incomplete and renames it when the end marker was seen. Errors name the stream
/// offset of the bad or truncated record.
Status reassemble_flattened(int in_fd, const std::string& in_name, const std::string& output,
                            bool force);

/// What reassemble_flattened_partial made of a stream.
struct FlatReassembly {
  bool complete = false;          ///< the end marker was seen: `output` is final
  std::string output;             ///< the file written: output, or output.incomplete; "" if none
  std::uint64_t stream_bytes = 0; ///< stream bytes used: header, whole records, end marker
  /// Where the stream's writer may have written up to: stream_bytes, or past a cut record's
  /// header as far as that record declares (a device holding the stream is clean after it).
  std::uint64_t stream_end = 0;
  std::string cut; ///< why an incomplete stream ends where it does (names offset)
};

/// As reassemble_flattened, but a stream cut short (it ends, or where the next record should
/// start are bytes that are not one) is not an error: the whole records before the cut stay in
/// `output`.incomplete, fdatasynced with its directory, and `cut` says where and why the
/// stream ended. A stream that ends inside its 4096-byte header creates no file. Errors: a
/// stream that is not a flattened one, read/write failures (the .incomplete may remain).
Result<FlatReassembly> reassemble_flattened_partial(int in_fd, const std::string& in_name,
                                                    const std::string& output, bool force);

} // namespace crashkit::capture
