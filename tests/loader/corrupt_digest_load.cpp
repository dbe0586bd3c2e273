// crashkit-test-corrupt-load KERNEL INITRD CMDLINE: arms the panic slot the way
// `crashkit load --panic --syscall legacy --initrd INITRD --command-line CMDLINE KERNEL` does,
// but with one bit of the stored SHA-256 flipped, so crashkit's purgatory must refuse to boot
// the capture kernel at panic time (tests/vm/check-purgatory-halt). A test program only: the
// shipped crashkit has no way to arm a capture kernel built to halt.
#include <cstdio>

#include "crashkit/loader/kexec_loader.hpp"
#include "crashkit/loader/kexec_sys.hpp"

int main(int argc, char** argv) {
  using namespace crashkit::loader;
  if (argc != 4) {
    std::fprintf(stderr, "usage: crashkit-test-corrupt-load KERNEL INITRD CMDLINE\n");
    return 64;
  }
  RealKexecSys sys;
  LoadRequest req;
  req.slot = Slot::panic;
  req.kernel = argv[1];
  req.initrd = argv[2];
  req.cmdline = argv[3];
  req.syscall = SyscallChoice::legacy;
  req.test_corrupt_digest = true;
  auto r = load(sys, req);
  if (!r) {
    std::fprintf(stderr, "crashkit-test-corrupt-load: %s\n", r.error().message().c_str());
    return 1;
  }
  std::printf("%s kernel loaded with %s and a corrupted digest: %s initrd %s\n",
              slot_name(req.slot), r->syscall, argv[1], argv[2]);
  std::printf("command line: %s\n", r->cmdline.c_str());
  return 0;
}
