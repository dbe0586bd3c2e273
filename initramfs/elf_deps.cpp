#include "crashkit/initramfs/elf_deps.hpp"

#include <gelf.h>
#include <libelf.h>

#include <deque>
#include <memory>

#include "crashkit/base/path.hpp"

namespace crashkit::initramfs {
namespace {

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

std::vector<std::string> split_path_list(const char* s) {
  std::vector<std::string> out;
  std::string cur;
  for (const char* p = s; *p; ++p) {
    if (*p == ':') {
      if (!cur.empty())
        out.push_back(cur);
      cur.clear();
    } else {
      cur += *p;
    }
  }
  if (!cur.empty())
    out.push_back(cur);
  return out;
}

/// $ORIGIN and ${ORIGIN}; $LIB and $PLATFORM are left as they are (never found).
std::string expand_origin(std::string dir, const std::string& origin) {
  for (const std::string token : {"${ORIGIN}", "$ORIGIN"}) {
    for (auto pos = dir.find(token); pos != std::string::npos; pos = dir.find(token, pos)) {
      dir.replace(pos, token.size(), origin);
      pos += origin.size();
    }
  }
  return dir;
}

} // namespace

Result<ElfNeeds> read_elf_needs(std::string_view bytes, const std::string& name) {
  if (elf_version(EV_CURRENT) == EV_NONE)
    return Error(ErrorCategory::internal, "libelf: version mismatch");
  std::unique_ptr<Elf, ElfCloser> elf(elf_memory(const_cast<char*>(bytes.data()), bytes.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF)
    return Error(ErrorCategory::data, "not an ELF file").with_path(name);
  ElfNeeds needs;
  std::size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0)
    return Error(ErrorCategory::data, std::string("program headers: ") + elf_errmsg(-1))
        .with_path(name);
  for (std::size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph))
      return Error(ErrorCategory::data,
                   "program header " + std::to_string(i) + ": " + elf_errmsg(-1))
          .with_path(name);
    if (ph.p_type != PT_INTERP)
      continue;
    if (ph.p_offset > bytes.size() || ph.p_filesz > bytes.size() - ph.p_offset)
      return Error(ErrorCategory::data, "PT_INTERP beyond the end of the file")
          .with_path(name)
          .with_offset(ph.p_offset);
    std::string interp(bytes.substr(ph.p_offset, ph.p_filesz));
    interp.resize(interp.find('\0') == std::string::npos ? interp.size() : interp.find('\0'));
    needs.interpreter = interp;
  }
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || sh.sh_entsize == 0)
      continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (!data)
      return Error(ErrorCategory::data, std::string("dynamic section: ") + elf_errmsg(-1))
          .with_path(name);
    const std::size_t count = sh.sh_size / sh.sh_entsize;
    for (std::size_t i = 0; i < count; ++i) {
      GElf_Dyn dyn;
      if (!gelf_getdyn(data, static_cast<int>(i), &dyn))
        break;
      if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RUNPATH && dyn.d_tag != DT_RPATH)
        continue;
      const char* s = elf_strptr(elf.get(), sh.sh_link, dyn.d_un.d_val);
      if (!s)
        return Error(ErrorCategory::data,
                     "dynamic entry " + std::to_string(i) + " points outside the string table")
            .with_path(name);
      if (dyn.d_tag == DT_NEEDED)
        needs.needed.emplace_back(s);
      else if (dyn.d_tag == DT_RUNPATH)
        for (auto& d : split_path_list(s))
          needs.runpath.push_back(d);
      else
        for (auto& d : split_path_list(s))
          needs.rpath.push_back(d);
    }
  }
  return needs;
}

Result<std::map<std::string, std::string>> resolve_elf_closure(const RootDir& root,
                                                               std::string_view bytes,
                                                               const std::string& name,
                                                               const std::string& image_dir) {
  std::map<std::string, std::string> files;
  struct Pending {
    std::string path; ///< tree path; empty for the program itself
    std::string label;
    std::string origin;
  };
  std::deque<Pending> queue{{"", name, image_dir}};
  while (!queue.empty()) {
    Pending cur = queue.front();
    queue.pop_front();
    std::string_view content = cur.path.empty() ? bytes : std::string_view(files.at(cur.path));
    auto needs = CK_TRY(read_elf_needs(content, cur.label));

    auto add = [&](const std::string& path) -> Status {
      if (files.count(path))
        return {};
      auto data = CK_TRY_CONTEXT(root.read_file(path), cur.label + " needs " + path);
      files.emplace(path, std::move(data));
      queue.push_back({path, path, dirname_of(path)});
      return {};
    };

    if (!needs.interpreter.empty()) {
      if (!root.is_regular_file(needs.interpreter))
        return Error(ErrorCategory::no_input, cur.label + ": ELF interpreter " + needs.interpreter +
                                                  " not found below " +
                                                  (root.prefix().empty() ? "/" : root.prefix()));
      CK_TRY(add(needs.interpreter));
    }
    // ld.so ignores DT_RPATH when DT_RUNPATH is present.
    std::vector<std::string> dirs;
    for (const auto& d : needs.runpath.empty() ? needs.rpath : needs.runpath)
      dirs.push_back(expand_origin(d, cur.origin));
    dirs.insert(dirs.end(), kLibraryDirs.begin(), kLibraryDirs.end());
    for (const auto& lib : needs.needed) {
      std::string found;
      if (lib.find('/') != std::string::npos) {
        if (root.is_regular_file(lib))
          found = lib;
      } else {
        for (const auto& d : dirs) {
          if (d.empty() || d.front() != '/')
            continue;
          if (root.is_regular_file(join_path(d, lib))) {
            found = join_path(d, lib);
            break;
          }
        }
      }
      if (found.empty()) {
        std::string searched;
        for (const auto& d : dirs)
          searched += (searched.empty() ? "" : ", ") + d;
        return Error(ErrorCategory::no_input, cur.label + ": needed library " + lib +
                                                  " not found in " + searched + " below " +
                                                  (root.prefix().empty() ? "/" : root.prefix()));
      }
      CK_TRY(add(found));
    }
  }
  return files;
}

} // namespace crashkit::initramfs
