#include "crashkit/capture/capture_options.hpp"

#include <charconv>

namespace crashkit::capture {
namespace {

using V = OptionValue;

// Dump levels are makedumpfile's five exclusion bits (0..31), --message-level its five message
// bits (0..31); --zstd-level spans zstd's fast levels down to -7 and its regular ones up to 19
// (20..22 are zstd's --ultra levels).
constexpr CaptureOption kOptions[] = {
    {OptionId::dump_level,
     "-d,--dump-level",
     V::dump_levels,
     0,
     31,
     {},
     "TEXT",
     true,
     true,
     "pages to exclude, sum of 1 zero, 2 cache, 4 private cache, 8 user, 16 free; "
     "a list (11,31) retries with the next level when the disk is full"},
    {OptionId::zlib, "-c", V::none, 0, 0, {}, {}, true, true, "compress pages with zlib"},
    {OptionId::lzo, "-l", V::none, 0, 0, {}, {}, true, true, "compress pages with LZO"},
    {OptionId::snappy, "-p", V::none, 0, 0, {}, {}, true, true, "compress pages with snappy"},
    {OptionId::zstd,
     "-z",
     V::none,
     0,
     0,
     {},
     {},
     true,
     true,
     "compress pages with zstd (the default)"},
    {OptionId::compress, "--compress", V::choice, 0, 0, "zstd|zlib|lzo|snappy|none", "TEXT", true,
     false, "zstd|zlib|lzo|snappy|none"},
    {OptionId::zstd_level,
     "--zstd-level",
     V::number,
     -7,
     19,
     {},
     "INT",
     true,
     false,
     "zstd level, 1 by default as makedumpfile; negative levels are faster and larger"},
    {OptionId::elf,
     "-E",
     V::none,
     0,
     0,
     {},
     {},
     true,
     true,
     "write filtered ELF (gdb reads it; not compressed)"},
    {OptionId::flat,
     "-F",
     V::none,
     0,
     0,
     {},
     {},
     true,
     true,
     "write the flattened stream to standard output"},
    {OptionId::format, "--format", V::choice, 0, 0, "kdump|elf|flat", "TEXT", true, false,
     "kdump|elf|flat"},
    {OptionId::reassemble,
     "-R",
     V::none,
     0,
     0,
     {},
     {},
     false,
     false,
     "rebuild OUTPUT from a flattened stream on standard input"},
    {OptionId::threads,
     "--threads,--num-threads",
     V::number,
     1,
     1024,
     {},
     "UINT",
     true,
     true,
     "compression threads (default: online CPUs)"},
    {OptionId::message_level,
     "--message-level",
     V::number,
     0,
     31,
     {},
     "INT",
     true,
     true,
     "accepted for makedumpfile compatibility; 0 silences the summary"},
    {OptionId::force,
     "-f,--force",
     V::none,
     0,
     0,
     {},
     {},
     true,
     true,
     "overwrite an existing OUTPUT"},
    {OptionId::dump_dmesg,
     "--dump-dmesg",
     V::none,
     0,
     0,
     {},
     {},
     false,
     false,
     "write the kernel log of VMCORE to FILE"},
    {OptionId::progress,
     "--progress",
     V::none,
     0,
     0,
     {},
     {},
     false,
     false,
     "show progress on stderr even when not a terminal"},
    {OptionId::json,
     "--json",
     V::none,
     0,
     0,
     {},
     {},
     false,
     false,
     "print a JSON summary on standard output"},
    {OptionId::non_mmap,
     "--non-mmap",
     V::none,
     0,
     0,
     {},
     {},
     true,
     true,
     "read the vmcore with pread only (--read-mode pread)"},
    {OptionId::read_mode, "--read-mode", V::choice, 0, 0, "auto|mmap|pread", "TEXT", true, false,
     "auto (mmap for /proc/vmcore, pread for a file copy), mmap or pread"},
    {OptionId::no_dedup,
     "--no-dedup",
     V::none,
     0,
     0,
     {},
     {},
     true,
     false,
     "store identical pages separately (kdump format)"},
    {OptionId::low_memory,
     "--low-memory",
     V::none,
     0,
     0,
     {},
     {},
     true,
     false,
     "smaller batches and identical-page table (~5 MiB less; for small crashkernel=)"},
};

// The enums are indexed by the position of their name among an option's choices.
static_assert(static_cast<int>(ReadMode::automatic) == 0 && static_cast<int>(ReadMode::mmap) == 1 &&
              static_cast<int>(ReadMode::pread) == 2);
static_assert(static_cast<int>(OutputFormat::kdump) == 0 &&
              static_cast<int>(OutputFormat::elf) == 1 &&
              static_cast<int>(OutputFormat::flat) == 2);

std::optional<int> to_int(std::string_view s, int min, int max) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < min || v > max)
    return std::nullopt;
  return v;
}

// The position of CHOICE among the option's choices ("zstd|zlib|..."), or nullopt.
std::optional<std::size_t> choice_index(std::string_view choices, std::string_view choice) {
  std::size_t index = 0;
  while (true) {
    const auto bar = choices.find('|');
    if (choices.substr(0, bar) == choice)
      return index;
    if (bar == std::string_view::npos)
      return std::nullopt;
    choices.remove_prefix(bar + 1);
    ++index;
  }
}

// The INDEX-th of the option's choices.
std::string_view choice_name(OptionId id, std::size_t index) {
  std::string_view choices;
  for (const auto& o : kOptions)
    if (o.id == id)
      choices = o.choices;
  for (; index > 0; --index)
    choices.remove_prefix(choices.find('|') + 1);
  return choices.substr(0, choices.find('|'));
}

template <class T> void set_once(std::optional<T>& field, T value, bool& conflict) {
  if (field && *field != value)
    conflict = true;
  field = value;
}

} // namespace

std::span<const CaptureOption> capture_options() {
  return kOptions;
}

const CaptureOption* find_capture_option(std::string_view spelling) {
  for (const auto& o : kOptions) {
    std::string_view names = o.names;
    while (!names.empty()) {
      const auto comma = names.find(',');
      if (names.substr(0, comma) == spelling)
        return &o;
      names.remove_prefix(comma == std::string_view::npos ? names.size() : comma + 1);
    }
  }
  return nullptr;
}

std::optional<std::string> apply_capture_option(CaptureSettings& s, const CaptureOption& opt,
                                                std::string_view value) {
  std::optional<int> number;
  std::optional<std::size_t> choice;
  if (opt.value == OptionValue::number && !(number = to_int(value, opt.min, opt.max)))
    return std::string(value);
  if (opt.value == OptionValue::choice && !(choice = choice_index(opt.choices, value)))
    return std::string(value);
  switch (opt.id) {
  case OptionId::dump_level: {
    std::vector<int> levels;
    std::string_view rest = value;
    do {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      auto level = to_int(item, opt.min, opt.max);
      if (!level)
        return std::string(item);
      levels.push_back(*level);
      rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    } while (!rest.empty());
    s.dump_levels = std::move(levels);
    break;
  }
  case OptionId::zlib:
    set_once(s.compression, Compression::zlib, s.compression_conflict);
    break;
  case OptionId::lzo:
    set_once(s.compression, Compression::lzo, s.compression_conflict);
    break;
  case OptionId::snappy:
    set_once(s.compression, Compression::snappy, s.compression_conflict);
    break;
  case OptionId::zstd:
    set_once(s.compression, Compression::zstd, s.compression_conflict);
    break;
  case OptionId::compress:
    set_once(s.compression, *parse_compression(std::string(value)), s.compression_conflict);
    break;
  case OptionId::zstd_level:
    s.zstd_level = *number;
    break;
  case OptionId::elf:
    set_once(s.format, OutputFormat::elf, s.format_conflict);
    break;
  case OptionId::flat:
    set_once(s.format, OutputFormat::flat, s.format_conflict);
    break;
  case OptionId::format:
    set_once(s.format, static_cast<OutputFormat>(*choice), s.format_conflict);
    break;
  case OptionId::threads:
    s.threads = static_cast<unsigned>(*number);
    break;
  case OptionId::message_level:
    s.message_level = *number;
    break;
  case OptionId::force:
    s.force = true;
    break;
  case OptionId::non_mmap:
    s.read_mode = ReadMode::pread;
    break;
  case OptionId::read_mode:
    s.read_mode = static_cast<ReadMode>(*choice);
    break;
  case OptionId::no_dedup:
    s.no_dedup = true;
    break;
  case OptionId::low_memory:
    s.low_memory = true;
    break;
  case OptionId::reassemble:
  case OptionId::dump_dmesg:
  case OptionId::progress:
  case OptionId::json:
    break;
  }
  return std::nullopt;
}

Status check_capture_settings(const CaptureSettings& s) {
  if (s.compression_conflict)
    return Error(ErrorCategory::usage, "choose one compression (-c, -l, -p, -z or --compress)");
  if (s.format_conflict)
    return Error(ErrorCategory::usage, "use either -E/-F or --format, not both");
  if (s.format == OutputFormat::elf && s.compression && *s.compression != Compression::none)
    return Error(ErrorCategory::usage, "ELF output (-E) cannot be compressed");
  return {};
}

CaptureRequest capture_request(const CaptureSettings& s, std::string vmcore) {
  CaptureRequest req;
  req.vmcore = std::move(vmcore);
  if (!s.dump_levels.empty())
    req.dump_level = s.dump_levels.front();
  if (s.compression)
    req.compression = *s.compression;
  if (s.zstd_level)
    req.zstd_level = *s.zstd_level;
  if (s.format == OutputFormat::elf) {
    req.format = DumpFormat::elf;
    req.compression = Compression::none;
  }
  if (s.threads)
    req.threads = *s.threads;
  if (s.read_mode)
    req.read_mode = *s.read_mode;
  req.dedup = !s.no_dedup;
  req.low_memory = s.low_memory;
  return req;
}

std::vector<std::string> capture_arguments(const CaptureSettings& s) {
  std::vector<std::string> a;
  if (!s.dump_levels.empty()) {
    std::string levels;
    for (int l : s.dump_levels)
      levels += (levels.empty() ? "" : ",") + std::to_string(l);
    a.insert(a.end(), {"-d", levels});
  }
  if (s.compression)
    a.insert(a.end(), {"--compress", compression_name(*s.compression)});
  if (s.zstd_level)
    a.insert(a.end(), {"--zstd-level", std::to_string(*s.zstd_level)});
  if (s.format)
    a.insert(a.end(), {"--format", std::string(choice_name(OptionId::format,
                                                           static_cast<std::size_t>(*s.format)))});
  if (s.message_level)
    a.insert(a.end(), {"--message-level", std::to_string(*s.message_level)});
  if (s.threads)
    a.insert(a.end(), {"--num-threads", std::to_string(*s.threads)});
  if (s.read_mode == ReadMode::pread)
    a.push_back("--non-mmap");
  else if (s.read_mode)
    a.insert(a.end(),
             {"--read-mode", std::string(choice_name(OptionId::read_mode,
                                                     static_cast<std::size_t>(*s.read_mode)))});
  if (s.no_dedup)
    a.push_back("--no-dedup");
  if (s.low_memory)
    a.push_back("--low-memory");
  return a;
}

} // namespace crashkit::capture
