#pragma once
/// The files a dynamically linked program needs at run time: its ELF interpreter (PT_INTERP) and
/// its shared libraries (DT_NEEDED, recursively), read with libelf from the files themselves
/// (never by running ldd, which would execute the tree's loader).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/initramfs/root_dir.hpp"

namespace crashkit::initramfs {

/// Where DT_NEEDED names are searched after the object's own DT_RUNPATH/DT_RPATH: the
/// directories Debian's x86_64 ld.so searches without a cache (the image has none).
inline const std::vector<std::string> kLibraryDirs = {"/lib/x86_64-linux-gnu",
                                                      "/usr/lib/x86_64-linux-gnu",
                                                      "/lib64",
                                                      "/usr/lib64",
                                                      "/lib",
                                                      "/usr/lib"};

/// What one ELF object asks of the dynamic loader.
struct ElfNeeds {
  std::string interpreter; ///< PT_INTERP, empty for static programs and libraries
  std::vector<std::string> needed;
  std::vector<std::string> runpath; ///< DT_RUNPATH entries, ':'-split
  std::vector<std::string> rpath;   ///< DT_RPATH entries, ':'-split
};

/// Reads an ELF image from memory. Errors: data ("not an ELF file", malformed headers), naming
/// name.
Result<ElfNeeds> read_elf_needs(std::string_view bytes, const std::string& name);

/// Every interpreter and library the program `bytes` needs, resolved below root, recursively:
/// tree path → content. image_dir is the program's directory in the image ($ORIGIN). Errors: a
/// library not found names the object that needs it and the library; unreadable or malformed
/// files name the file.
Result<std::map<std::string, std::string>> resolve_elf_closure(const RootDir& root,
                                                               std::string_view bytes,
                                                               const std::string& name,
                                                               const std::string& image_dir);

} // namespace crashkit::initramfs
