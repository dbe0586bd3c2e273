// make_test_bzimage OUT [truncated]: writes the synthetic bzImage the CLI tests load.
#include <cstdio>
#include <cstring>

#include "bzimage_sample.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_test_bzimage OUT [truncated]\n");
    return 64;
  }
  crashkit::loader::samples::BzImageShape s;
  if (argc > 2 && std::strcmp(argv[2], "truncated") == 0)
    s.drop_tail = s.payload / 2;
  crashkit::loader::samples::write_file(argv[1], crashkit::loader::samples::synthetic_bzimage(s));
  return 0;
}
