#include "capture_options.hpp"

#include <CLI/CLI.hpp>

#include <sstream>

namespace crashkit::cli {
namespace {

Result<std::vector<int>> parse_levels(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      std::size_t pos = 0;
      int v = std::stoi(item, &pos);
      if (pos != item.size() || v < 0 || v > 31)
        throw std::out_of_range("level");
      out.push_back(v);
    } catch (const std::exception&) {
      return Error(ErrorCategory::usage,
                   "-d/--dump-level: '" + item + "' is not a dump level 0..31");
    }
  }
  if (out.empty())
    return Error(ErrorCategory::usage, "-d/--dump-level: empty level list");
  return out;
}

} // namespace

Result<CaptureOptions> parse_capture_options(int argc, char** argv) {
  CaptureOptions o;
  CLI::App app{"crashkit-capture: write a filtered, compressed dump of a crashed kernel's memory "
               "(/proc/vmcore) that crash and gdb open"};
  app.set_version_flag("--version", "crashkit-capture 0.1");
  std::string levels = "31";
  bool zlib = false, lzo = false, snappy = false, zstd = false, elf = false, flat = false,
       reassemble = false, non_mmap = false;
  std::string compress, format;
  std::optional<unsigned> threads;
  std::vector<std::string> pos;
  app.add_option("-d,--dump-level", levels,
                 "pages to exclude, sum of 1 zero, 2 cache, 4 private cache, 8 user, 16 free; "
                 "a list (11,31) retries with the next level when the disk is full")
      ->default_str("31");
  app.add_flag("-c", zlib, "compress pages with zlib");
  app.add_flag("-l", lzo, "compress pages with LZO");
  app.add_flag("-p", snappy, "compress pages with snappy");
  app.add_flag("-z", zstd, "compress pages with zstd (the default)");
  app.add_option("--compress", compress, "zstd|zlib|lzo|snappy|none")
      ->check(CLI::IsMember({"zstd", "zlib", "lzo", "snappy", "none"}));
  app.add_option("--zstd-level", o.request.zstd_level,
                 "zstd level, 1 by default as makedumpfile; negative levels are faster and larger")
      ->check(CLI::Range(-7, 19));
  app.add_flag("-E", elf, "write filtered ELF (gdb reads it; not compressed)");
  app.add_flag("-F", flat, "write the flattened stream to standard output");
  app.add_option("--format", format, "kdump|elf|flat")
      ->check(CLI::IsMember({"kdump", "elf", "flat"}));
  app.add_flag("-R", reassemble, "rebuild OUTPUT from a flattened stream on standard input");
  app.add_option("--threads,--num-threads", threads, "compression threads (default: online CPUs)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--message-level", o.message_level,
                 "accepted for makedumpfile compatibility; "
                 "0 silences the summary")
      ->check(CLI::Range(0, 31));
  app.add_flag("-f,--force", o.force, "overwrite an existing OUTPUT");
  bool dmesg = false;
  app.add_flag("--dump-dmesg", dmesg, "write the kernel log of VMCORE to FILE");
  app.add_flag("--progress", o.progress, "show progress on stderr even when not a terminal");
  app.add_flag("--json", o.json, "print a JSON summary on standard output");
  app.add_flag("--non-mmap", non_mmap, "read the vmcore with pread only (--read-mode pread)");
  std::string read_mode;
  app.add_option("--read-mode", read_mode,
                 "auto (mmap for /proc/vmcore, pread for a file copy), mmap or pread")
      ->check(CLI::IsMember({"auto", "mmap", "pread"}));
  bool no_dedup = false;
  app.add_flag("--no-dedup", no_dedup, "store identical pages separately (kdump format)");
  app.add_flag("--low-memory", o.request.low_memory,
               "smaller batches and identical-page table (~5 MiB less; for small crashkernel=)");
  app.add_option("args", pos,
                 "VMCORE OUTPUT | VMCORE (-F) | OUTPUT (-R) | VMCORE FILE (--dump-dmesg)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return Error(ErrorCategory::usage, app.help()).with_path("help");
  } catch (const CLI::CallForVersion& e) {
    return Error(ErrorCategory::usage, "crashkit-capture 0.1").with_path("help");
  } catch (const CLI::ParseError& e) {
    return Error(ErrorCategory::usage, e.what());
  }
  o.message_level_given = app.count("--message-level") > 0;

  auto lv = parse_levels(levels);
  if (!lv)
    return std::move(lv).error();
  o.dump_levels = *lv;
  o.request.dump_level = o.dump_levels.front();

  const int nletters = int(zlib) + int(lzo) + int(snappy) + int(zstd) + int(!compress.empty());
  if (nletters > 1)
    return Error(ErrorCategory::usage, "choose one compression (-c, -l, -p, -z or --compress)");
  if (zlib)
    o.request.compression = capture::Compression::zlib;
  if (lzo)
    o.request.compression = capture::Compression::lzo;
  if (snappy)
    o.request.compression = capture::Compression::snappy;
  if (!compress.empty())
    o.request.compression = *capture::parse_compression(compress);

  if ((elf || flat) && !format.empty())
    return Error(ErrorCategory::usage, "use either -E/-F or --format, not both");
  if (format == "elf")
    elf = true;
  const bool flat_format = flat || format == "flat";
  if (elf) {
    o.request.format = capture::DumpFormat::elf;
    if (nletters > 0 && o.request.compression != capture::Compression::none)
      return Error(ErrorCategory::usage, "ELF output (-E) cannot be compressed");
    o.request.compression = capture::Compression::none;
  }
  if (threads)
    o.request.threads = *threads;
  if (non_mmap)
    o.request.read_mode = capture::ReadMode::pread;
  if (read_mode == "mmap")
    o.request.read_mode = capture::ReadMode::mmap;
  if (read_mode == "pread")
    o.request.read_mode = capture::ReadMode::pread;
  o.request.dedup = !no_dedup;

  const int modes = int(reassemble) + int(dmesg) + int(flat_format);
  if (modes > 1)
    return Error(ErrorCategory::usage, "-R, -F and --dump-dmesg exclude each other");
  if (reassemble) {
    if (pos.size() != 1)
      return Error(ErrorCategory::usage, "-R takes exactly one OUTPUT");
    o.mode = CaptureMode::reassemble;
    o.output = pos[0];
    return o;
  }
  if (dmesg) {
    if (pos.size() != 2)
      return Error(ErrorCategory::usage, "--dump-dmesg takes VMCORE FILE");
    o.mode = CaptureMode::dmesg;
    o.request.vmcore = pos[0];
    o.output = pos[1];
    return o;
  }
  if (flat_format) {
    // -F writes to stdout (makedumpfile); --format flat also accepts an OUTPUT file.
    if (pos.empty() || pos.size() > 2)
      return Error(ErrorCategory::usage, "-F takes VMCORE (stream on stdout) [or VMCORE OUTPUT]");
    o.mode = pos.size() == 1 ? CaptureMode::flat_stdout : CaptureMode::dump;
    o.request.vmcore = pos[0];
    if (pos.size() == 2)
      o.output = pos[1];
    if (o.mode == CaptureMode::flat_stdout && o.json)
      return Error(ErrorCategory::usage,
                   "--json needs an OUTPUT file when the stream goes to stdout");
    o.flat = true;
    return o;
  }
  if (pos.size() != 2)
    return Error(ErrorCategory::usage, "expected VMCORE OUTPUT (see --help)");
  o.request.vmcore = pos[0];
  o.output = pos[1];
  return o;
}

} // namespace crashkit::cli
