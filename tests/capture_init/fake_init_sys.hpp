#pragma once
// An InitSys that records every call and answers from tables, with a clock that only moves when
// the code under test sleeps.

#include <map>
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
  std::optional<FsSpace> fixed_space;         ///< unset: the real statvfs of the directory
  int hook_exit = 0;
  std::time_t now = 1764238733; // 2025-11-27T10:18:53Z

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
  Result<FsSpace> space(const std::string& dir) override;
  double monotonic() override { return clock; }
  std::time_t wall_time() override { return now; }
  void sleep_ms(unsigned ms) override { clock += ms / 1000.0; }
  Result<int> run(const std::vector<std::string>& argv) override;
  void sync() override { ++syncs; }
  Status power(PowerAction a) override;
  Status exec_shell() override;
};

} // namespace crashkit::capture_init
