#include <catch2/catch.hpp>
#include <cerrno>

#include "crashkit/loader/load_advice.hpp"

using namespace crashkit::loader;
using Catch::Contains;

namespace {
AdviceContext panic_ctx() {
  AdviceContext c;
  c.kernel_size = 8ull << 20;
  c.initrd_size = 300ull << 20;
  c.crash_size = 256ull << 20;
  c.cmdline_len = 100;
  c.lockdown = Lockdown::none;
  return c;
}
} // namespace

TEST_CASE("advice: no reservation names the crashkernel= fix", "[advice]") {
  auto c = panic_ctx();
  c.crash_size = 0;
  CHECK_THAT(load_advice(EADDRNOTAVAIL, c), Contains("crashkernel="));
  CHECK_THAT(load_advice(EADDRNOTAVAIL, c), Contains("no crash memory is reserved"));
  c.crash_size.reset();
  CHECK_THAT(load_advice(ENOMEM, c), Contains("no crash memory is reserved"));
}

TEST_CASE("advice: too big for the reservation shows both sizes", "[advice]") {
  auto c = panic_ctx();
  for (int err : {EADDRNOTAVAIL, ENOMEM}) {
    auto s = load_advice(err, c);
    CHECK_THAT(s, Contains("kernel 8 MiB + initrd 300 MiB"));
    CHECK_THAT(s, Contains("256 MiB"));
    CHECK_THAT(s, Contains("raise crashkernel="));
  }
  c.slot = Slot::reboot;
  CHECK_THAT(load_advice(ENOMEM, c), !Contains("crashkernel"));
}

TEST_CASE("advice: one sentence per errno", "[advice]") {
  auto c = panic_ctx();
  struct Row {
    int err;
    const char* needle;
  };
  const Row rows[] = {
      {ENOEXEC, "did not accept this image"},
      {EKEYREJECTED, "signature was rejected"},
      {ENOKEY, "signature was rejected"},
      {EBADMSG, "signature was rejected"},
      {ENODATA, "signature was rejected"},
      {ENOPKG, "signature was rejected"},
      {ELIBBAD, "signature was rejected"},
      {EMSGSIZE, "signature was rejected"},
      {EBUSY, "retry"},
      {EINVAL, "rejected the arguments"},
      {ENOSYS, "CONFIG_KEXEC_FILE"},
      {EACCES, "IMA"},
      {EFBIG, "4 GiB"},
      {ETXTBSY, "open for writing"},
      {EBADF, "initrd"},
      {EPERM, "kexec_load_limit_panic"},
      {EIO, "load failed"},
  };
  for (const auto& r : rows) {
    INFO("errno " << r.err);
    auto s = load_advice(r.err, c);
    CHECK_THAT(s, Contains(r.needle));
    CHECK(s.find('\n') == std::string::npos);
  }
}

TEST_CASE("advice: EPERM distinguishes privilege, lockdown and sysctl", "[advice]") {
  auto c = panic_ctx();
  c.cap_sys_boot = false;
  CHECK_THAT(load_advice(EPERM, c), Contains("CAP_SYS_BOOT"));
  c.cap_sys_boot = true;
  c.lockdown = Lockdown::integrity;
  CHECK_THAT(load_advice(EPERM, c), Contains("lockdown (integrity)"));
  c.lockdown = Lockdown::none;
  c.load_disabled = true;
  CHECK_THAT(load_advice(EPERM, c), Contains("kexec_load_disabled=1"));
  c.load_disabled = false;
  c.slot = Slot::reboot;
  c.unload = true;
  CHECK_THAT(load_advice(EPERM, c), Contains("refused the unload"));
  CHECK_THAT(load_advice(EPERM, c), Contains("kexec_load_limit_reboot"));
}

TEST_CASE("advice: EINVAL with a long command line gives the length", "[advice]") {
  auto c = panic_ctx();
  c.cmdline_len = 2100;
  CHECK_THAT(load_advice(EINVAL, c), Contains("2100 bytes"));
  CHECK_THAT(load_advice(EINVAL, c), Contains("2017"));
}
