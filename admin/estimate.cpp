#include "crashkit/admin/estimate.hpp"

#include <gelf.h>
#include <libelf.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "crashkit/base/hex.hpp"
#include "crashkit/base/io.hpp"
#include "crashkit/initramfs/decompress.hpp"
#include "crashkit/loader/bzimage.hpp"
#include "crashkit/loader/reservation.hpp"

namespace crashkit::admin {
namespace {

Error bad(const std::string& path, const std::string& what) {
  return Error(ErrorCategory::data, what).with_path(path);
}

} // namespace

std::uint64_t Estimate::total() const {
  std::uint64_t n = 0;
  for (const auto& p : parts)
    n += p.bytes;
  return n;
}

Result<std::uint64_t> kernel_resident_bytes(const std::string& path) {
  auto file = CK_TRY(read_whole_file(path));
  const auto bytes = std::as_bytes(std::span(file.data(), file.size()));
  auto img = CK_TRY(loader::parse_bzimage(bytes.first(std::min<std::size_t>(bytes.size(), 0x8000)),
                                          file.size(), path));
  std::uint32_t off = 0, len = 0;
  std::memcpy(&off, file.data() + 0x248, 4);
  std::memcpy(&len, file.data() + 0x24c, 4);
  if (img.setup_size + std::uint64_t{off} + len > file.size() || len == 0)
    return bad(path, "payload_offset/payload_length (0x248/0x24c) point outside the file");
  // The kernel build appends the uncompressed size (4 bytes) to every payload format but gzip;
  // liblzma and friends reject trailing bytes, so try without them when the whole fails.
  const char* payload = file.data() + img.setup_size + off;
  auto vmlinux = initramfs::decompress_whole({payload, len}, path);
  if (!vmlinux && len > 4)
    vmlinux = initramfs::decompress_whole({payload, len - 4}, path);
  if (!vmlinux)
    return std::move(vmlinux).error().context("kernel payload at " + hex(img.setup_size + off));

  elf_version(EV_CURRENT);
  std::unique_ptr<Elf, decltype(&elf_end)> elf(elf_memory(vmlinux->data(), vmlinux->size()),
                                               elf_end);
  std::size_t shstrndx = 0;
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF || elf_getshdrstrndx(elf.get(), &shstrndx) != 0)
    return bad(path, "the kernel payload is not an ELF vmlinux");
  // What stays resident after boot: allocated sections, without those the kernel frees or
  // moves once running (.init/.exit code and data, the unused .brk reserve, the per-CPU
  // template copied into per-CPU areas).
  std::uint64_t total = 0;
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf.get(), scn)) != nullptr;) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
      continue;
    const char* name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    const std::string_view n = name ? name : "";
    if (n.starts_with(".init") || n.starts_with(".exit") || n == ".brk" || n == ".data..percpu")
      continue;
    total += sh.sh_size;
  }
  if (total == 0)
    return bad(path, "the kernel payload has no allocated sections");
  return total;
}

Result<std::uint64_t> initramfs_unpacked_bytes(const std::string& path) {
  auto file = CK_TRY(read_whole_file(path));
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d(ZSTD_createDCtx(), ZSTD_freeDCtx);
  ZSTD_inBuffer in{file.data(), file.size(), 0};
  std::vector<char> out(1 << 20);
  std::uint64_t total = 0;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    const std::size_t rc = ZSTD_decompressStream(d.get(), &o, &in);
    if (ZSTD_isError(rc))
      return bad(path, std::string("not a zstd initramfs: ") + ZSTD_getErrorName(rc));
    total += o.pos;
    if (rc == 0 && o.pos == 0 && in.pos < in.size)
      break; // trailing padding
  }
  return total;
}

Result<Estimate> estimate_capture_memory(const std::string& kernel, const std::string& initramfs,
                                         std::uint64_t reserved) {
  Estimate e;
  auto image = CK_TRY(kernel_resident_bytes(kernel));
  e.parts.push_back({"kernel image", image, "resident sections of the vmlinux in " + kernel});
  e.parts.push_back({"struct pages", reserved / 4096 * 64, "64 bytes per 4 KiB page reserved"});
  e.parts.push_back({"kernel runtime", kKernelRuntimeBytes,
                     "slab, page tables, early reservations (measured, Debian 6.1)"});
  auto unpacked = CK_TRY(initramfs_unpacked_bytes(initramfs));
  e.parts.push_back({"capture initramfs", unpacked, "unpacked size of " + initramfs});
  e.parts.push_back({"crashkit-capture", kCaptureToolBytes, "peak RSS, low-memory mode"});
  return e;
}

std::string format_estimate(const Estimate& e, std::uint64_t reserved) {
  std::string out;
  char line[256];
  for (const auto& p : e.parts) {
    std::snprintf(line, sizeof line, "%-18s %10s  %s\n", p.name.c_str(),
                  loader::human_size(p.bytes).c_str(), p.how.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "%-18s %10s\n", "total", loader::human_size(e.total()).c_str());
  out += line;
  out += estimate_verdict(e.total(), reserved);
  return out;
}

std::string estimate_verdict(std::uint64_t total, std::uint64_t reserved) {
  if (reserved == 0)
    return "reserved: none (add crashkernel=, see crashkit reset-crashkernel)\n";
  if (reserved < total)
    return "WARNING: the reservation of " + loader::human_size(reserved) +
           " is smaller than the estimate: raise crashkernel= (crashkit reset-crashkernel "
           "--value ...)\n";
  return "reserved: " + loader::human_size(reserved) + ", " + loader::human_size(reserved - total) +
         " to spare\n";
}

} // namespace crashkit::admin
