#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "crashkit/base/io.hpp"

using namespace crashkit;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path p;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "crashkit-base-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    p = t;
  }
  ~TempDir() { fs::remove_all(p); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

} // namespace

TEST_CASE("write_file_atomic: two writers racing leave one whole content, never a mix",
          "[base][io]") {
  TempDir d;
  const std::string path = (d.p / "initramfs.img").string();
  // Large enough that the two writes overlap in time on any machine.
  const std::string a(256 << 10, 'a'), b(192 << 10, 'b');
  REQUIRE(write_file_atomic(path, a, 0600));
  constexpr int kRounds = 200;
  std::atomic<int> failures{0}, bad_reads{0}, reads{0};
  std::atomic<bool> done{false};
  std::vector<std::string> errors(2);
  auto writer = [&](const std::string& content, std::string& first_error) {
    for (int i = 0; i < kRounds; ++i)
      if (auto st = write_file_atomic(path, content, 0600); !st) {
        if (first_error.empty())
          first_error = st.error().message();
        ++failures;
      }
  };
  // A reader never sees a file that is not exactly one of the two contents.
  std::thread reader([&] {
    while (!done) {
      auto text = read_whole_file(path);
      ++reads;
      if (!text || (*text != a && *text != b))
        ++bad_reads;
    }
  });
  std::thread wa(writer, std::cref(a), std::ref(errors[0]));
  std::thread wb(writer, std::cref(b), std::ref(errors[1]));
  wa.join();
  wb.join();
  done = true;
  reader.join();
  CAPTURE(errors[0], errors[1]);
  CHECK(failures == 0);
  CHECK(bad_reads == 0);
  CHECK(reads > 0);
  auto final_text = read_whole_file(path);
  REQUIRE(final_text);
  CHECK((*final_text == a || *final_text == b));
  // Nothing left behind but the file itself.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(d.p))
    names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"initramfs.img"});
}

TEST_CASE("write_file_atomic: the mode is exact and a symlinked temp name is not followed",
          "[base][io]") {
  TempDir d;
  const std::string path = (d.p / "state.json").string();
  const mode_t old = ::umask(077);
  auto st = write_file_atomic(path, "{}\n", 0644);
  ::umask(old);
  REQUIRE(st);
  struct stat s {};
  REQUIRE(::stat(path.c_str(), &s) == 0);
  CHECK((s.st_mode & 07777) == 0644);
  // A planted link at the old fixed temporary name does not redirect the write.
  const std::string victim = (d.p / "victim").string();
  REQUIRE(write_file_atomic(victim, "keep", 0600));
  fs::create_symlink(victim, path + ".incomplete");
  REQUIRE(write_file_atomic(path, "new\n", 0600));
  CHECK(*read_whole_file(victim) == "keep");
  CHECK(*read_whole_file(path) == "new\n");
}

TEST_CASE("write_file_atomic: a missing directory is an error naming it", "[base][io]") {
  TempDir d;
  const std::string path = (d.p / "no-such-dir" / "f").string();
  auto st = write_file_atomic(path, "x", 0600);
  REQUIRE_FALSE(st);
  CHECK_THAT(st.error().message(), Catch::Contains("no-such-dir"));
}
