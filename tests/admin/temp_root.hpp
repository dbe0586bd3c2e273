#pragma once
// A scratch directory per test, removed at the end: the admin tests write config trees, dump
// directories and state files into it.

#include <unistd.h>

#include <filesystem>
#include <string>

namespace crashkit::admin::testing {

struct TempRoot {
  std::filesystem::path p;
  explicit TempRoot(const char* tag = "crashkit-admin") {
    static int n = 0;
    p = std::filesystem::temp_directory_path() /
        (std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(p);
  }
  ~TempRoot() { std::filesystem::remove_all(p); }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;
};

} // namespace crashkit::admin::testing
