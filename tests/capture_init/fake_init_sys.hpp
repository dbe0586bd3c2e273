#pragma once
// An InitSys that records every call and answers from tables, with a clock that only moves when
// the code under test sleeps.

#include <map>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/capture_init/init_sys.hpp"

namespace crashkit::capture_init {

class FakeInitSys final : public InitSys {
public:
  struct MountCall {
    std::string source, target, fstype, data;
  };
  /// spec ("UUID=..", "/dev/vdb") -> device path; a device appears after `appear_after` polls.
  std::map<std::string, std::string> devices;
  unsigned appear_after = 0;
  std::map<std::string, std::string> fstypes; ///< device -> probed type
  /// device -> what foreign_signature() finds there ("ext4 filesystem UUID=...")
  std::map<std::string, std::string> signatures;
  std::vector<std::string> signature_probes; ///< devices foreign_signature() was asked about
  std::optional<FsSpace> fixed_space;        ///< unset: the real statvfs of the directory
  int hook_exit = 0;
  bool hook_hangs = false; ///< run() answers as spawn_wait does when the timeout killed it
  std::vector<std::optional<double>> timeouts; ///< of each run()
  /// Answers of space() in order before fixed_space (the space after old dumps went).
  std::vector<FsSpace> space_answers;
  std::time_t now = 1764238733; // 2025-11-27T10:18:53Z
  /// The call ("space", "run", "power", ...) that throws std::bad_alloc, as an allocation in it
  /// would; empty: none.
  std::string bad_alloc_in;

  std::vector<MountCall> mounts;
  std::vector<std::string> unmounts;
  std::vector<std::string> modules;
  std::vector<std::string> finds;
  std::vector<std::vector<std::string>> runs;
  std::vector<PowerAction> powers;
  int shells = 0;
  int syncs = 0;
  double clock = 1000;

  Status mount(const std::string& source, const std::string& target, const std::string& fstype,
               unsigned long flags, const std::string& data) override;
  Status unmount(const std::string& target) override {
    unmounts.push_back(target);
    return {};
  }
  void attach_console() override {}
  Status load_module(const std::string& path) override;
  Result<std::string> find_device(const std::string& spec) override;
  Result<std::string> probe_fstype(const std::string& device) override;
  Result<std::optional<std::string>> foreign_signature(const std::string& device) override;
  Result<FsSpace> space(const std::string& dir) override;
  void maybe_throw(const char* call) const {
    if (bad_alloc_in == call)
      throw std::bad_alloc();
  }
  double monotonic() override { return clock; }
  std::time_t wall_time() override { return now; }
  void sleep_ms(unsigned ms) override { clock += ms / 1000.0; }
  Result<int> run(const std::vector<std::string>& argv, std::optional<double> timeout_s) override;
  void sync() override { ++syncs; }
  Status power(PowerAction a) override;
  Status exec_shell() override;
};

} // namespace crashkit::capture_init
