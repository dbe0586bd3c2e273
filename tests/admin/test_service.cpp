#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../loader/bzimage_sample.hpp"
#include "crashkit/admin/service.hpp"
#include "crashkit/conf/config_parser.hpp"
#include "crashkit/testing/fake_kexec_sys.hpp"
#include "sample_dump.hpp"

using namespace crashkit;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

struct Machine {
  loader::FakeKexecSys sys;
  fs::path root;
  std::string initrd;
  int ensure_calls = 0;

  Machine() {
    static int n = 0;
    root = fs::temp_directory_path() /
           ("crashkit-start-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::create_directories(root / "boot");
    fs::create_directories(root / "var/lib/crashkit");
    loader::samples::write_file((root / "boot/vmlinuz-6.1.0-test").string(),
                                loader::samples::synthetic_bzimage());
    initrd = (root / "var/lib/crashkit/initramfs-6.1.0-test.img").string();
    loader::samples::write_file(initrd, std::vector<std::byte>(4096, std::byte{7}));
    sys.set_kexec_state(false, false, 256u << 20);
    sys.files["/proc/iomem"] = "00100000-7ffdbfff : System RAM\n  01000000-01ffffff : Kernel code\n"
                               "  6f000000-7effffff : Crash kernel\n";
    sys.files["/proc/cmdline"] =
        "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro quiet crashkernel=256M console=ttyS0\n";
  }
  ~Machine() { fs::remove_all(root); }

  admin::StartRequest request(const std::string& conf_text) {
    auto parse = conf::parse_config_text(conf_text);
    REQUIRE(parse.ok());
    admin::StartRequest r;
    r.config = parse.config;
    r.root = root.string();
    r.kernel_release = "6.1.0-test";
    r.ensure_initramfs = [this](const conf::Config&) -> Result<std::string> {
      ++ensure_calls;
      return initrd;
    };
    return r;
  }
};

} // namespace

TEST_CASE("start: loads the running kernel with the capture initramfs and command line",
          "[admin][start]") {
  Machine m;
  auto rep = admin::start(m.sys, m.request("append nr_cpus=2 panic=5\nremove console\n"));
  REQUIRE(rep);
  CHECK(m.ensure_calls == 1);
  CHECK(rep->kernel == (m.root / "boot/vmlinuz-6.1.0-test").string());
  CHECK(rep->initrd == m.initrd);
  REQUIRE(m.sys.file_load_calls.size() == 1);
  const auto& c = m.sys.file_load_calls[0];
  CHECK(c.flags == loader::kKexecFileOnCrash);
  const std::string cmd = c.cmdline_bytes.substr(0, c.cmdline_bytes.size() - 1);
  CHECK_THAT(cmd, Contains("root=/dev/vda1"));
  CHECK_THAT(cmd, Contains("nr_cpus=2") && !Contains("nr_cpus=1"));
  CHECK_THAT(cmd, Contains("panic=5") && Contains("irqpoll") && Contains("reset_devices"));
  CHECK_THAT(cmd, !Contains("crashkernel=") && !Contains("quiet") && !Contains("console=") &&
                      !Contains("BOOT_IMAGE"));
  CHECK(m.sys.files["/sys/kernel/kexec_crash_loaded"] == "1\n");
}

TEST_CASE("start: capture_kernel PATH is used as given (below the root)", "[admin][start]") {
  Machine m;
  fs::copy_file(m.root / "boot/vmlinuz-6.1.0-test", m.root / "boot/vmlinuz-capture");
  auto rep = admin::start(m.sys, m.request("capture_kernel /boot/vmlinuz-capture\n"));
  REQUIRE(rep);
  CHECK(rep->kernel == (m.root / "boot/vmlinuz-capture").string());
}

TEST_CASE("start: nothing is built or loaded without crash memory", "[admin][start]") {
  Machine m;
  m.sys.set_kexec_state(false, false, 0);
  m.sys.files["/proc/iomem"] = "00100000-7ffdbfff : System RAM\n";
  auto rep = admin::start(m.sys, m.request(""));
  REQUIRE_FALSE(rep);
  CHECK(rep.error().sys_errno() == EADDRNOTAVAIL);
  CHECK_THAT(rep.error().message(), Contains("crashkit reset-crashkernel"));
  CHECK(m.ensure_calls == 0);
  CHECK(m.sys.file_load_calls.empty());
}

TEST_CASE("start: a dump path others can write to arms nothing", "[admin][start]") {
  Machine m;
  fs::create_directories(m.root / "var/crash");
  fs::permissions(m.root / "var", fs::perms(0755));
  REQUIRE(::chmod((m.root / "var/crash").c_str(), 01777) == 0);
  auto rep = admin::start(m.sys, m.request("path /var/crash\n"));
  REQUIRE_FALSE(rep);
  CHECK_THAT(rep.error().message(), Contains("kdump was not armed") &&
                                        Contains((m.root / "var/crash").string()) &&
                                        Contains("mode 1777"));
  CHECK(m.ensure_calls == 0);
  CHECK(m.sys.file_load_calls.empty());
}

TEST_CASE("start: an initramfs failure loads nothing, stop unloads", "[admin][start]") {
  Machine m;
  auto r = m.request("");
  r.ensure_initramfs = [](const conf::Config&) -> Result<std::string> {
    return Error(ErrorCategory::no_input, "virtio_blk.ko not found");
  };
  auto rep = admin::start(m.sys, r);
  REQUIRE_FALSE(rep);
  CHECK_THAT(rep.error().message(), Contains("capture initramfs") && Contains("virtio_blk"));
  CHECK(m.sys.file_load_calls.empty());
  REQUIRE(admin::stop(m.sys));
  REQUIRE(m.sys.file_load_calls.size() == 1);
  CHECK(m.sys.file_load_calls[0].flags == (loader::kKexecFileUnload | loader::kKexecFileOnCrash));
}

TEST_CASE("start: a raw dump cut short is saved as incomplete and kdump is armed, once",
          "[admin][start][raw]") {
  Machine m;
  fs::create_directories(m.root / "dev");
  std::string stream = admin::testing::samples().stream;
  stream.resize(stream.size() * 2 / 3); // the capture kernel died two thirds of the way
  admin::testing::spit(m.root / "dev/vdc", stream + std::string(4096, '\0'));
  auto req = m.request("raw /dev/vdc\npath /var/crash\n");
  req.stamp = "2026-11-27-110000";
  auto rep = admin::start(m.sys, req);
  if (!rep)
    FAIL(rep.error().message());
  CHECK(rep->salvage.found);
  CHECK_FALSE(rep->salvage.complete);
  CHECK(rep->salvage.vmcore == (m.root / "var/crash/2026-11-27-110000/vmcore.incomplete").string());
  CHECK(m.sys.file_load_calls.size() == 1); // armed
  // The next boot's start finds the stream already saved: no second copy, armed again.
  req.stamp = "2026-11-28-080000";
  auto again = admin::start(m.sys, req);
  REQUIRE(again);
  CHECK_FALSE(again->salvage.found);
  CHECK(m.sys.file_load_calls.size() == 2);
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(m.root / "var/crash"))
    dirs.push_back(e.path().filename().string());
  CHECK(dirs == std::vector<std::string>{"2026-11-27-110000"});
}
