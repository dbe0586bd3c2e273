// crashkit-capture killed with SIGKILL at 50 random moments while writing each format (kdump,
// ELF, and a flattened stream reassembled by -R, killing the writer, the reassembler or both).
// Whatever the moment, OUTPUT is absent or byte-identical to an uninterrupted run's; a kdump
// OUTPUT.incomplete that holds a header has the incomplete flag set. The moments are spread over
// the length of an uninterrupted run, measured first (a figure used only to aim the kills, never
// asserted).

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crashkit/capture/kdump_format.hpp"
#include "crashkit/fixtures/vmcore_builder.hpp"
#include "test_dump_reader.hpp"

namespace {

using namespace crashkit::testing;
using Clock = std::chrono::steady_clock;

constexpr int kKills = 50;

enum class Format { kdump, elf, flat };

// Starts argv with stdin/stdout redirected (-1 keeps the inherited one; stdout otherwise goes
// to /dev/null). Returns the pid.
pid_t spawn(const std::vector<std::string>& args, int in_fd = -1, int out_fd = -1,
            int close_fd = -1) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(in_fd >= 0 ? in_fd : null, 0);
    ::dup2(out_fd >= 0 ? out_fd : null, 1);
    ::dup2(null, 2);
    if (close_fd >= 0)
      ::close(close_fd);
    std::vector<char*> argv;
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return st;
}

// One capture of `core` into `out`; with kill_after set, SIGKILL after that long (for flat,
// the writer, the reassembler or both, by `victim`). Returns the processes' wait statuses.
std::vector<int> run(Format f, const std::string& core, const std::string& out,
                     std::optional<Clock::duration> kill_after = {}, int victim = 2) {
  const std::string cap = CRASHKIT_CAPTURE_BIN;
  std::vector<pid_t> pids;
  if (f == Format::flat) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    pids.push_back(spawn({cap, "--threads", "1", "-F", core}, -1, p[1], p[0]));
    pids.push_back(spawn({cap, "-R", "-f", out}, p[0], -1, p[1]));
    ::close(p[0]);
    ::close(p[1]);
  } else {
    std::vector<std::string> a{cap, "--threads", "1", "-f"};
    if (f == Format::elf)
      a.push_back("-E");
    a.push_back(core);
    a.push_back(out);
    pids.push_back(spawn(a));
  }
  if (kill_after) {
    std::this_thread::sleep_for(*kill_after);
    for (std::size_t i = 0; i < pids.size(); ++i)
      if (pids.size() == 1 || victim == 2 || static_cast<std::size_t>(victim) == i)
        ::kill(pids[i], SIGKILL);
  }
  std::vector<int> st;
  for (pid_t pid : pids)
    st.push_back(wait_status(pid));
  return st;
}

bool exited_ok(const std::vector<int>& st) {
  for (int s : st)
    if (!WIFEXITED(s) || WEXITSTATUS(s) != 0)
      return false;
  return true;
}

void kill_test(Format f) {
  TempDir dir;
  const std::string core = dir.file("vmcore");
  {
    // A few MiB of mixed pages: a write that takes long enough to be interrupted often.
    crashkit::fixtures::VmcoreSpec spec;
    spec.ram = crashkit::fixtures::pc_ram_layout(64ULL << 20);
    auto b = crashkit::fixtures::VmcoreBuilder::create(spec);
    REQUIRE(b);
    REQUIRE(b->fill_mix(3));
    REQUIRE(b->write(core));
  }
  const std::string ref = dir.file("reference");
  const auto t0 = Clock::now();
  REQUIRE(exited_ok(run(f, core, ref)));
  const auto full = Clock::now() - t0;
  const std::vector<std::uint8_t> want = read_file(ref);
  REQUIRE(!want.empty());
  if (f != Format::elf) {
    const KdumpFile k = KdumpFile::load(ref);
    REQUIRE(k.error.empty());
    REQUIRE((k.status & crashkit::capture::kdump::kStatusIncomplete) == 0);
  } else {
    REQUIRE(ElfCore::load(ref).error.empty());
  }

  std::mt19937_64 rng(0x6b696c6c + static_cast<unsigned>(f));
  const auto span = std::chrono::duration_cast<std::chrono::microseconds>(full * 6 / 5);
  std::uniform_int_distribution<std::int64_t> when(0, span.count());
  std::uniform_int_distribution<int> victim(0, 2);
  int none = 0, partial = 0, complete = 0;
  const std::string out = dir.file("out");
  for (int i = 0; i < kKills; ++i) {
    ::unlink(out.c_str());
    ::unlink((out + ".incomplete").c_str());
    const auto delay = std::chrono::microseconds(when(rng));
    const int v = victim(rng);
    (void)run(f, core, out, delay, v);
    INFO("kill " << i << " after " << delay.count() << " us, victim " << v);
    if (file_exists(out)) {
      ++complete;
      const bool same_as_uninterrupted = read_file(out) == want; // no 20 MB expansion
      CHECK(same_as_uninterrupted);
    }
    if (file_exists(out + ".incomplete")) {
      ++partial;
      // The kdump writer flags its header incomplete until the end. A flattened stream carries
      // only the final header (a stream reader takes the first one it sees), so a reassembly
      // cut short is marked by its name alone, like ELF.
      if (f == Format::kdump) {
        const auto bytes = read_file(out + ".incomplete");
        // Past the 464-byte main header the status word is there: it says incomplete until
        // the final header is written, after every page; then the file is the whole dump and
        // only the rename is missing.
        // Before the header is written the file has no signature: it claims nothing.
        if (bytes.size() >= 464 && std::memcmp(bytes.data(), "KDUMP   ", 8) == 0 &&
            (rd32(bytes, 424) & crashkit::capture::kdump::kStatusIncomplete) == 0) {
          const bool same_as_uninterrupted = bytes == want;
          CHECK(same_as_uninterrupted);
        }
      }
    }
    if (!file_exists(out) && !file_exists(out + ".incomplete"))
      ++none;
  }
  // The counts say where the kills landed; a run that never caught a write in progress
  // would test nothing.
  WARN("kills: " << kKills << ", output absent " << none << ", .incomplete left " << partial
                 << ", complete " << complete);
  CHECK(partial > 0);
}

} // namespace

TEST_CASE("SIGKILL while writing kdump never leaves a partial OUTPUT", "[kill]") {
  kill_test(Format::kdump);
}

TEST_CASE("SIGKILL while writing ELF never leaves a partial OUTPUT", "[kill]") {
  kill_test(Format::elf);
}

TEST_CASE("SIGKILL of -F | -R never leaves a partial OUTPUT", "[kill]") {
  kill_test(Format::flat);
}
