#pragma once
/// A system tree the image is built from: the live system ("/" or ""), a chroot or an installed
/// image. Paths are absolute inside the tree; symlinks in it (absolute ones included) resolve
/// inside it, as they would after chroot, so a tree never reaches into the host's files.

#include <sys/stat.h>

#include <string>

#include "crashkit/base/result.hpp"
#include "crashkit/base/unique_fd.hpp"

namespace crashkit::initramfs {

class RootDir {
public:
  /// Opens the tree. Errors: no_input when root is not a directory.
  static Result<RootDir> open(const std::string& root);

  /// "" for the live system, else the root without a trailing '/'.
  const std::string& prefix() const { return prefix_; }
  /// prefix() + path: the host path of a tree path, for messages and for libraries that want
  /// plain paths (libkmod).
  std::string host_path(const std::string& path) const { return prefix_ + path; }

  /// Opens a tree path read-only. Errors: from_errno naming host_path(path).
  Result<UniqueFd> open_file(const std::string& path) const;
  /// stat() of a tree path, following symlinks inside the tree.
  Result<struct stat> stat(const std::string& path) const;
  bool is_regular_file(const std::string& path) const;
  bool is_directory(const std::string& path) const;
  /// The whole content of a regular file.
  Result<std::string> read_file(const std::string& path) const;

private:
  RootDir(std::string prefix, UniqueFd fd) : prefix_(std::move(prefix)), fd_(std::move(fd)) {}
  Result<UniqueFd> open_flags(const std::string& path, int flags) const;

  std::string prefix_;
  UniqueFd fd_;
};

/// Reads a whole regular file from an open descriptor; name is used in errors.
Result<std::string> read_fd(int fd, const std::string& name);

} // namespace crashkit::initramfs
