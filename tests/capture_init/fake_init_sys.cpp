#include "fake_init_sys.hpp"

#include <sys/statvfs.h>

#include <cerrno>

namespace crashkit::capture_init {

Status FakeInitSys::mount(const std::string& source, const std::string& target,
                          const std::string& fstype, unsigned long, const std::string& data) {
  mounts.push_back({source, target, fstype, data});
  return {};
}

Status FakeInitSys::load_module(const std::string& path) {
  modules.push_back(path);
  if (path.find("missing") != std::string::npos)
    return std::move(Error::from_errno(ENOENT, "insert module").with_path(path));
  return {};
}

Result<std::string> FakeInitSys::find_device(const std::string& spec) {
  finds.push_back(spec);
  maybe_throw("find_device");
  auto it = devices.find(spec);
  if (it == devices.end() || finds.size() <= appear_after)
    return Error(ErrorCategory::no_input, "no block device with " + spec);
  return it->second;
}

Result<std::string> FakeInitSys::probe_fstype(const std::string& device) {
  auto it = fstypes.find(device);
  if (it == fstypes.end())
    return Error(ErrorCategory::no_input, "no filesystem recognised");
  return it->second;
}

Result<std::optional<std::string>> FakeInitSys::foreign_signature(const std::string& device) {
  signature_probes.push_back(device);
  auto it = signatures.find(device);
  if (it == signatures.end())
    return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<FsSpace> FakeInitSys::space(const std::string& dir) {
  maybe_throw("space");
  if (!space_answers.empty()) {
    const FsSpace s = space_answers.front();
    space_answers.erase(space_answers.begin());
    return s;
  }
  if (fixed_space)
    return *fixed_space;
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0)
    return Error::from_errno(errno, "statvfs");
  return FsSpace{static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize};
}

Result<int> FakeInitSys::run(const std::vector<std::string>& argv,
                             std::optional<double> timeout_s) {
  runs.push_back(argv);
  timeouts.push_back(timeout_s);
  maybe_throw("run");
  if (hook_hangs)
    return Error(ErrorCategory::io, "did not finish within 300 s; killed", ETIMEDOUT);
  return hook_exit;
}

Status FakeInitSys::power(PowerAction a) {
  powers.push_back(a);
  maybe_throw("power");
  return {};
}

Status FakeInitSys::exec_shell() {
  ++shells;
  return Error::from_errno(ENOENT, "/bin/sh");
}

} // namespace crashkit::capture_init
