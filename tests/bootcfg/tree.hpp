#pragma once
// A scratch system root in a temp directory, for plan_reset(--root) tests.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace bootcfg_test {

namespace fs = std::filesystem;

struct Tree {
  fs::path dir;
  Tree() {
    static int n = 0;
    dir = fs::temp_directory_path() /
          ("bootcfg_tests." + std::to_string(::getpid()) + "." + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Tree() { fs::remove_all(dir); }
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  std::string root() const { return dir.string(); }
  std::string path(const std::string& rel) const { return (dir / rel.substr(1)).string(); }
  void write(const std::string& rel, const std::string& text, mode_t mode = 0644) const {
    fs::path p = path(rel);
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    ::chmod(p.c_str(), mode);
  }
  void program(const std::string& rel) const { write(rel, "#!/bin/sh\nexit 0\n", 0755); }
  std::string read(const std::string& rel) const {
    std::ifstream in(path(rel), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  bool exists(const std::string& rel) const { return fs::exists(path(rel)); }
  mode_t mode(const std::string& rel) const {
    struct stat st {};
    ::stat(path(rel).c_str(), &st);
    return st.st_mode & 07777;
  }
};

} // namespace bootcfg_test
