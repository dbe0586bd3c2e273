// crashkit-faultfs: exposes one file of the host as MOUNTPOINT/vmcore through FUSE and fails
// reads of chosen byte ranges with EIO. It lets the tests give crashkit-capture a vmcore whose
// pages really fail to read, through both pread and mmap (a faulting mapped page is SIGBUS).
//
//   crashkit-faultfs SOURCE MOUNTPOINT --eio OFFSET:LENGTH [--eio ...]   (stays in foreground)

#define FUSE_USE_VERSION 31
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

struct State {
  int fd = -1;
  off_t size = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> eio; // [start, end)
};
State g;

constexpr const char* kName = "/vmcore";

int do_getattr(const char* path, struct stat* st, struct fuse_file_info*) {
  std::memset(st, 0, sizeof *st);
  if (std::strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0755;
    st->st_nlink = 2;
    return 0;
  }
  if (std::strcmp(path, kName) != 0)
    return -ENOENT;
  st->st_mode = S_IFREG | 0444;
  st->st_nlink = 1;
  st->st_size = g.size;
  return 0;
}

int do_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, struct fuse_file_info*,
               enum fuse_readdir_flags) {
  if (std::strcmp(path, "/") != 0)
    return -ENOENT;
  fill(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  fill(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  fill(buf, kName + 1, nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  return 0;
}

int do_open(const char* path, struct fuse_file_info* fi) {
  if (std::strcmp(path, kName) != 0)
    return -ENOENT;
  if ((fi->flags & O_ACCMODE) != O_RDONLY)
    return -EACCES;
  fi->keep_cache = 0;
  return 0;
}

int do_read(const char*, char* buf, size_t size, off_t off, struct fuse_file_info*) {
  const auto a = static_cast<std::uint64_t>(off), b = a + size;
  for (const auto& [s, e] : g.eio)
    if (a < e && b > s)
      return -EIO;
  ssize_t n = ::pread(g.fd, buf, size, off);
  return n < 0 ? -errno : static_cast<int>(n);
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: crashkit-faultfs SOURCE MOUNTPOINT --eio OFFSET:LENGTH ...\n");
    return 64;
  }
  g.fd = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  if (g.fd < 0) {
    std::perror(argv[1]);
    return 66;
  }
  struct stat st {};
  ::fstat(g.fd, &st);
  g.size = st.st_size;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) != "--eio") {
      std::fprintf(stderr, "crashkit-faultfs: unknown option %s\n", argv[i]);
      return 64;
    }
    long long s = 0, l = 0;
    if (std::sscanf(argv[i + 1], "%lli:%lli", &s, &l) != 2) {
      std::fprintf(stderr, "crashkit-faultfs: --eio wants OFFSET:LENGTH, got %s\n", argv[i + 1]);
      return 64;
    }
    g.eio.emplace_back(static_cast<std::uint64_t>(s), static_cast<std::uint64_t>(s + l));
  }
  fuse_operations ops{};
  ops.getattr = do_getattr;
  ops.readdir = do_readdir;
  ops.open = do_open;
  ops.read = do_read;
  // -f foreground, -s single-threaded; direct_io off so mmap goes through the page cache.
  char* fargs[] = {argv[0],
                   argv[2],
                   const_cast<char*>("-f"),
                   const_cast<char*>("-s"),
                   const_cast<char*>("-o"),
                   const_cast<char*>("ro,default_permissions")};
  return fuse_main(6, fargs, &ops, nullptr);
}
