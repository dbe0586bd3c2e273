#pragma once
/// On-disk structures of the kdump-compressed ("KDUMP   ") format, LP64/x86_64 layout, written
/// with fixed-width types and checked offsets. The source is makedumpfile's diskdump_mod.h
/// (struct disk_dump_header, struct kdump_sub_header, struct page_desc, DUMP_DH_*), header
/// version 6 as written since makedumpfile 1.5.5 (2013); crash's diskdump.h reads the same.

#include <cstddef>
#include <cstdint>

namespace crashkit::capture::kdump {

inline constexpr char kSignature[8] = {'K', 'D', 'U', 'M', 'P', ' ', ' ', ' '};
inline constexpr std::int32_t kHeaderVersion = 6;
inline constexpr std::uint32_t kStatusIncomplete = 0x08;
inline constexpr std::size_t kUtsFieldLen = 65;

#pragma pack(push, 1)
struct DiskDumpHeader {
  char signature[8];
  std::int32_t header_version;
  char utsname[6][kUtsFieldLen]; // sysname nodename release version machine domainname
  char pad[6];
  std::int64_t timestamp_sec;
  std::int64_t timestamp_usec;
  std::uint32_t status;
  std::int32_t block_size;
  std::int32_t sub_hdr_size;
  std::uint32_t bitmap_blocks;
  std::uint32_t max_mapnr;
  std::uint32_t total_ram_blocks;
  std::uint32_t device_blocks;
  std::uint32_t written_blocks;
  std::uint32_t current_cpu;
  std::int32_t nr_cpus;
};

struct KdumpSubHeader {
  std::uint64_t phys_base;
  std::int32_t dump_level;
  std::int32_t split;
  std::uint64_t start_pfn;
  std::uint64_t end_pfn;
  std::uint64_t offset_vmcoreinfo;
  std::uint64_t size_vmcoreinfo;
  std::uint64_t offset_note;
  std::uint64_t size_note;
  std::uint64_t offset_eraseinfo;
  std::uint64_t size_eraseinfo;
  std::uint64_t start_pfn_64;
  std::uint64_t end_pfn_64;
  std::uint64_t max_mapnr_64;
};

struct PageDesc {
  std::int64_t offset;
  std::uint32_t size;
  std::uint32_t flags;
  std::uint64_t page_flags;
};
#pragma pack(pop)

static_assert(sizeof(DiskDumpHeader) == 464);
static_assert(offsetof(DiskDumpHeader, timestamp_sec) == 408);
static_assert(offsetof(DiskDumpHeader, status) == 424);
static_assert(offsetof(DiskDumpHeader, nr_cpus) == 460);
static_assert(sizeof(KdumpSubHeader) == 104);
static_assert(offsetof(KdumpSubHeader, offset_vmcoreinfo) == 32);
static_assert(offsetof(KdumpSubHeader, max_mapnr_64) == 96);
static_assert(sizeof(PageDesc) == 24);

} // namespace crashkit::capture::kdump
