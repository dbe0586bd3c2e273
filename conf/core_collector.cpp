#include "crashkit/conf/core_collector.hpp"

#include <charconv>

namespace crashkit::conf {
namespace {

Error bad(const std::string& what) {
  return Error(ErrorCategory::data, what);
}

std::optional<unsigned> to_uint(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

std::string_view basename(std::string_view p) {
  auto slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

// makedumpfile short options that take an argument, so an unmapped one swallows it too.
bool short_takes_arg(char c) {
  return c == 'd' || c == 'x' || c == 'i' || c == 'g' || c == 'b' || c == 'L' || c == 'C';
}

// Long options (of either program) that take an argument.
bool long_takes_arg(std::string_view name) {
  for (std::string_view n :
       {"message-level", "num-threads", "threads", "dump-level", "compress", "format", "zstd-level",
        "read-mode", "cyclic-buffer", "splitblock-size", "work-dir", "config", "eppic",
        "partial-dmesg", "vtop", "mem-usage-file"})
    if (name == n)
      return true;
  return false;
}

} // namespace

CoreCollector default_core_collector() {
  CoreCollector c;
  c.argv = {"crashkit-capture", "-d", "31"};
  c.dump_level = 31;
  return c;
}

Result<CoreCollector> parse_core_collector(const std::vector<std::string>& argv) {
  CoreCollector c;
  c.argv = argv;
  if (argv.empty())
    return bad("core_collector needs a command");
  std::string_view prog = basename(argv[0]);
  if (prog == "crashkit-capture")
    c.program = CollectorProgram::crashkit_capture;
  else if (prog == "makedumpfile")
    c.program = CollectorProgram::makedumpfile;
  else
    return Error(ErrorCategory::unsupported,
                 "core_collector " + std::string(prog) +
                     " is not supported: use crashkit-capture or makedumpfile options");

  auto set_level = [&](std::string_view v) -> Status {
    auto n = to_uint(v);
    if (!n || *n > 31)
      return bad("core_collector: dump level '" + std::string(v) + "' is not a number 0-31");
    c.dump_level = n;
    return {};
  };
  auto set_uint = [&](std::optional<unsigned>& field, std::string_view opt,
                      std::string_view v) -> Status {
    auto n = to_uint(v);
    if (!n)
      return bad("core_collector: " + std::string(opt) + " needs a number, not '" + std::string(v) +
                 "'");
    field = n;
    return {};
  };

  for (std::size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.starts_with("--")) {
      std::string name = a.substr(2);
      std::optional<std::string> value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
      }
      bool needs = long_takes_arg(name);
      if (needs && !value) {
        if (i + 1 >= argv.size())
          return bad("core_collector: --" + name + " needs a value");
        value = argv[++i];
      }
      if (!needs && value)
        return bad("core_collector: --" + name + " takes no value");
      if (name == "message-level") {
        CK_TRY(set_uint(c.message_level, "--message-level", *value));
      } else if (name == "num-threads" || name == "threads") {
        CK_TRY(set_uint(c.threads, "--" + name, *value));
      } else if (name == "dump-level") {
        CK_TRY(set_level(*value));
      } else if (name == "non-mmap") {
        c.non_mmap = true;
      } else if (c.program == CollectorProgram::crashkit_capture && name == "compress") {
        if (*value == "zstd")
          c.compression = Compression::zstd;
        else if (*value == "zlib")
          c.compression = Compression::zlib;
        else if (*value == "lzo")
          c.compression = Compression::lzo;
        else if (*value == "snappy")
          c.compression = Compression::snappy;
        else if (*value == "none")
          c.compression = Compression::none;
        else
          return bad("core_collector: --compress takes zstd|zlib|lzo|snappy|none, not '" + *value +
                     "'");
      } else if (c.program == CollectorProgram::crashkit_capture && name == "format") {
        if (*value == "kdump")
          c.format = DumpFormat::kdump;
        else if (*value == "elf")
          c.format = DumpFormat::elf;
        else if (*value == "flat")
          c.format = DumpFormat::flat;
        else
          return bad("core_collector: --format takes kdump|elf|flat, not '" + *value + "'");
      } else {
        c.unmapped.push_back(a.find('=') == std::string::npos && value ? a + "=" + *value : a);
      }
      continue;
    }
    if (a.size() < 2 || a[0] != '-')
      return bad("core_collector: unexpected argument '" + a +
                 "' (input and output are chosen by the capture environment)");
    for (std::size_t j = 1; j < a.size(); ++j) {
      char o = a[j];
      if (short_takes_arg(o)) {
        std::string v = a.substr(j + 1);
        if (v.empty()) {
          if (i + 1 >= argv.size())
            return bad(std::string("core_collector: -") + o + " needs a value");
          v = argv[++i];
        }
        if (o == 'd')
          CK_TRY(set_level(v));
        else
          c.unmapped.push_back(std::string("-") + o + " " + v);
        break;
      }
      switch (o) {
      case 'c':
        c.compression = Compression::zlib;
        break;
      case 'l':
        c.compression = Compression::lzo;
        break;
      case 'p':
        c.compression = Compression::snappy;
        break;
      case 'z':
        c.compression = Compression::zstd;
        break;
      case 'E':
        c.format = DumpFormat::elf;
        break;
      case 'F':
        c.format = DumpFormat::flat;
        break;
      case 'f':
        break; // overwrite: the capture always writes a fresh name
      default:
        c.unmapped.push_back(std::string("-") + o);
      }
    }
  }
  return c;
}

std::vector<std::string> capture_arguments(const CoreCollector& c) {
  std::vector<std::string> a;
  if (c.dump_level)
    a.insert(a.end(), {"-d", std::to_string(*c.dump_level)});
  if (c.compression) {
    static const char* const kNames[] = {"zlib", "lzo", "snappy", "zstd", "none"};
    a.insert(a.end(), {"--compress", kNames[static_cast<int>(*c.compression)]});
  }
  if (c.format) {
    static const char* const kNames[] = {"kdump", "elf", "flat"};
    a.insert(a.end(), {"--format", kNames[static_cast<int>(*c.format)]});
  }
  if (c.message_level)
    a.insert(a.end(), {"--message-level", std::to_string(*c.message_level)});
  if (c.threads)
    a.insert(a.end(), {"--num-threads", std::to_string(*c.threads)});
  if (c.non_mmap)
    a.push_back("--non-mmap");
  return a;
}

std::vector<std::string> capture_argv(const CoreCollector& c) {
  std::vector<std::string> argv{"crashkit-capture"};
  for (auto& a : capture_arguments(c))
    argv.push_back(std::move(a));
  return argv;
}

} // namespace crashkit::conf
