#pragma once
// /proc/iomem and /proc/cmdline samples shaped as the kernel prints them.

namespace crashkit::loader::samples {

// x86_64 VM, crashkernel=256M,high: low chunk below 4 GiB (crashk_low_res) and the high range.
// Address widths vary as in r_show(): 8 digits, more when the address needs them.
inline constexpr const char* kIomemLowHigh = "00000000-00000fff : Reserved\n"
                                             "00001000-0009efff : System RAM\n"
                                             "0009f000-000fffff : Reserved\n"
                                             "  000a0000-000bffff : PCI Bus 0000:00\n"
                                             "  000f0000-000fffff : System ROM\n"
                                             "00100000-bffd9fff : System RAM\n"
                                             "  5d000000-5dffffff : Kernel code\n"
                                             "  5e000000-5e8fffff : Kernel rodata\n"
                                             "  5ea00000-5ed3ffff : Kernel data\n"
                                             "  5f2d3000-5f5fffff : Kernel bss\n"
                                             "  ab000000-baffffff : Crash kernel\n"
                                             "bffda000-bfffffff : Reserved\n"
                                             "c0000000-febfffff : PCI Bus 0000:00\n"
                                             "  fd000000-fdffffff : 0000:00:02.0\n"
                                             "    fd000000-fdffffff : bochs-drm\n"
                                             "fec00000-fec003ff : IOAPIC 0\n"
                                             "100000000-43fffffff : System RAM\n"
                                             "  42f000000-43effffff : Crash kernel\n";

// crashkernel=512M below 4 GiB: a single range.
inline constexpr const char* kIomemSingle = "00000000-00000fff : Reserved\n"
                                            "00001000-0009fbff : System RAM\n"
                                            "00100000-7ffdbfff : System RAM\n"
                                            "  01000000-01ffffff : Kernel code\n"
                                            "  5f000000-7effffff : Crash kernel\n"
                                            "7ffdc000-7fffffff : Reserved\n";

// No crashkernel= on the command line.
inline constexpr const char* kIomemNone = "00000000-00000fff : Reserved\n"
                                          "00001000-0009fbff : System RAM\n"
                                          "00100000-7ffdbfff : System RAM\n"
                                          "  01000000-01ffffff : Kernel code\n"
                                          "7ffdc000-7fffffff : Reserved\n";

// What a reader without CAP_SYS_ADMIN sees.
inline constexpr const char* kIomemHidden = "00000000-00000000 : Reserved\n"
                                            "00000000-00000000 : System RAM\n"
                                            "  00000000-00000000 : Kernel code\n"
                                            "  00000000-00000000 : Crash kernel\n";

inline constexpr const char* kCmdline =
    "BOOT_IMAGE=/vmlinuz-6.1.0-18-amd64 root=UUID=0a1b ro quiet splash crashkernel=512M "
    "hugepages=64 console=tty0 console=ttyS0,115200 nr_cpus=4\n";

} // namespace crashkit::loader::samples
