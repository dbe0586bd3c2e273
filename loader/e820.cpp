#include "crashkit/loader/e820.hpp"

#include "crashkit/loader/elf_core_header.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>

namespace crashkit::loader {
namespace {

// Mirror of the parts of struct boot_params we write, to pin the offsets the kernel's UAPI
// header documents (bootparam.h: e820_entries /* 0x1e8 */, e820_table /* 0x2d0 */, _pad8
// /* 0xcd0 */).
struct __attribute__((packed)) BootE820Entry {
  std::uint64_t addr;
  std::uint64_t size;
  std::uint32_t type;
};
struct __attribute__((packed)) BootParamsE820View {
  std::uint8_t pad_a[0x1e8];
  std::uint8_t e820_entries;
  std::uint8_t pad_b[0x2d0 - 0x1e9];
  BootE820Entry e820_table[kE820MaxEntriesZeropage];
  std::uint8_t pad8[48];
};
static_assert(sizeof(BootE820Entry) == kBootE820EntrySize);
static_assert(offsetof(BootParamsE820View, e820_entries) == kBootParamsE820EntriesOffset);
static_assert(offsetof(BootParamsE820View, e820_table) == kBootParamsE820TableOffset);
static_assert(offsetof(BootParamsE820View, pad8) == 0xcd0);
static_assert(sizeof(BootParamsE820View) <= kBootParamsSize);

struct Painted {
  std::uint64_t start;
  std::uint64_t end; // inclusive
  E820Type type;
  unsigned depth;
};

std::optional<E820Type> type_for(const std::string& name) {
  if (name == "ACPI Tables")
    return E820Type::acpi;
  if (name == "ACPI Non-volatile Storage")
    return E820Type::nvs;
  if (name == "reserved" || name == "Reserved")
    return E820Type::reserved;
  if (name == "Persistent Memory (legacy)")
    return E820Type::pram;
  if (name == "Persistent Memory")
    return E820Type::pmem;
  return std::nullopt;
}

void store_le(std::byte* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

} // namespace

Result<std::vector<E820Entry>> capture_e820(const std::vector<IomemEntry>& entries,
                                            const std::vector<MemRange>& exclude) {
  auto res = reservation_from_iomem(entries);
  auto err = [](const std::string& w) {
    return Error(ErrorCategory::data, "capture e820 map: " + w).with_path("/proc/iomem");
  };
  if (res.addresses_hidden)
    return err("addresses are hidden (read it as root)");
  if (res.crash_ranges.empty())
    return err("no 'Crash kernel' range");

  std::vector<Painted> in;
  for (const auto& e : entries) {
    if (e.name.starts_with("System RAM") && e.start < kLowMemEnd) {
      MemRange low{e.start, std::min<std::uint64_t>(e.end, kLowMemEnd - 1)};
      for (const auto& p : subtract_ranges(low, exclude))
        in.push_back({p.start, p.end, E820Type::ram, e.depth});
    } else if (e.name == "Crash kernel") {
      for (const auto& p : subtract_ranges({e.start, e.end}, exclude))
        in.push_back({p.start, p.end, E820Type::ram, e.depth});
    } else if (auto t = type_for(e.name)) {
      in.push_back({e.start, e.end, *t, e.depth});
    }
  }

  // Elementary intervals between all boundaries; each takes the deepest covering entry (ties:
  // the higher type number, as the kernel's e820 sanitiser prefers).
  std::vector<std::uint64_t> cuts;
  for (const auto& p : in) {
    cuts.push_back(p.start);
    if (p.end != UINT64_MAX)
      cuts.push_back(p.end + 1);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  std::vector<E820Entry> out;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const std::uint64_t a = cuts[i], b = cuts[i + 1] - 1;
    const Painted* best = nullptr;
    for (const auto& p : in) {
      if (p.start > a || p.end < b)
        continue;
      if (!best || p.depth > best->depth ||
          (p.depth == best->depth &&
           static_cast<std::uint32_t>(p.type) > static_cast<std::uint32_t>(best->type)))
        best = &p;
    }
    if (!best)
      continue;
    if (!out.empty() && out.back().type == best->type && out.back().addr + out.back().size == a)
      out.back().size += b - a + 1;
    else
      out.push_back({a, b - a + 1, best->type});
  }
  return out;
}

Status write_e820_table(std::span<std::byte> boot_params, const std::vector<E820Entry>& map) {
  if (boot_params.size() < kBootParamsSize)
    return Error(ErrorCategory::usage, "boot_params buffer of " +
                                           std::to_string(boot_params.size()) +
                                           " bytes (need 4096)");
  if (map.size() > kE820MaxEntriesZeropage)
    return Error(ErrorCategory::unsupported,
                 "capture e820 map has " + std::to_string(map.size()) +
                     " entries; boot_params holds 128 (SETUP_E820_EXT not implemented)");
  boot_params[kBootParamsE820EntriesOffset] = static_cast<std::byte>(map.size());
  std::byte* p = boot_params.data() + kBootParamsE820TableOffset;
  for (const auto& e : map) {
    store_le(p, e.addr, 8);
    store_le(p + 8, e.size, 8);
    store_le(p + 16, static_cast<std::uint32_t>(e.type), 4);
    p += kBootE820EntrySize;
  }
  return {};
}

} // namespace crashkit::loader
