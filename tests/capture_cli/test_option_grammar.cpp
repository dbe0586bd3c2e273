#include <catch2/catch.hpp>

#include "capture_cli/capture_options.hpp"
#include "crashkit/capture/capture_options.hpp"
#include "crashkit/conf/core_collector.hpp"

using namespace crashkit;
using capture::CaptureOption;
using capture::OptionValue;
using V = std::vector<std::string>;

namespace {

// Every spelling of OPT with sample values: each choice, a number range's ends, a level list.
std::vector<V> samples(const CaptureOption& opt) {
  std::vector<V> out;
  std::string_view names = opt.names;
  while (!names.empty()) {
    const auto comma = names.find(',');
    const std::string name(names.substr(0, comma));
    names.remove_prefix(comma == std::string_view::npos ? names.size() : comma + 1);
    switch (opt.value) {
    case OptionValue::none:
      out.push_back({name});
      break;
    case OptionValue::dump_levels:
      out.push_back({name, "11,31"});
      out.push_back({name, "0"});
      break;
    case OptionValue::number:
      out.push_back({name, std::to_string(opt.min)});
      out.push_back({name, std::to_string(opt.max)});
      break;
    case OptionValue::choice: {
      std::string_view choices = opt.choices;
      while (!choices.empty()) {
        const auto bar = choices.find('|');
        out.push_back({name, std::string(choices.substr(0, bar))});
        choices.remove_prefix(bar == std::string_view::npos ? choices.size() : bar + 1);
      }
      break;
    }
    }
  }
  return out;
}

Result<cli::CaptureOptions> command_line(const V& args) {
  std::vector<std::string> words{"crashkit-capture"};
  words.insert(words.end(), args.begin(), args.end());
  words.insert(words.end(), {"/proc/vmcore", "out"});
  std::vector<char*> argv;
  for (auto& w : words)
    argv.push_back(w.data());
  return cli::parse_capture_options(static_cast<int>(argv.size()), argv.data());
}

V with_program(const char* program, const V& args) {
  V argv{program};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

} // namespace

TEST_CASE("capture options: every option means the same on the command line and in "
          "core_collector",
          "[options]") {
  std::size_t compared = 0;
  for (const auto& opt : capture::capture_options()) {
    for (const V& args : samples(opt)) {
      CAPTURE(args);
      auto own = conf::parse_core_collector(with_program("crashkit-capture", args));
      REQUIRE(own);
      if (!opt.core_collector) { // -R, --dump-dmesg, --json, --progress: the command line's
        CHECK(own->unmapped == V{args.front()});
        continue;
      }
      auto cli = command_line(args);
      REQUIRE(cli);
      CHECK(own->unmapped.empty());
      CHECK(own->settings == cli->settings);
      CHECK(capture::capture_request(own->settings, "/proc/vmcore") == cli->request);
      // The canonical arguments an import writes read back to the same settings.
      auto again = conf::parse_core_collector(conf::capture_argv(*own));
      REQUIRE(again);
      CHECK(capture::capture_request(again->settings, "/proc/vmcore") == cli->request);

      auto makedumpfile = conf::parse_core_collector(with_program("makedumpfile", args));
      REQUIRE(makedumpfile);
      if (opt.makedumpfile) {
        CHECK(makedumpfile->settings == own->settings);
        CHECK(makedumpfile->unmapped.empty());
      } else {
        CHECK_FALSE(makedumpfile->unmapped.empty());
      }
      ++compared;
    }
  }
  CHECK(compared >= 30);
}

TEST_CASE("capture options: what the command line refuses, a crashkit-capture core_collector "
          "line refuses",
          "[options]") {
  const V rows[] = {
      {"-c", "-l"},
      {"-z", "--compress", "lzo"},
      {"-E", "-c"},
      {"-E", "--compress", "zstd"},
      {"-F", "--format", "elf"},
      {"-d", "32"},
      {"-d", "11,3x"},
      {"--compress", "gzip"},
      {"--format", "tar"},
      {"--threads", "0"},
      {"--zstd-level", "20"},
      {"--message-level", "32"},
      {"--read-mode", "fast"},
  };
  for (const V& args : rows) {
    CAPTURE(args);
    CHECK_FALSE(command_line(args));
    CHECK_FALSE(conf::parse_core_collector(with_program("crashkit-capture", args)));
  }
}

TEST_CASE("capture options: the messages of each front end", "[options]") {
  auto cli = command_line({"-d", "11,3x"});
  REQUIRE_FALSE(cli);
  CHECK(cli.error().message() == "-d/--dump-level: '3x' is not a dump level 0..31");
  auto line = conf::parse_core_collector({"crashkit-capture", "-d", "11,3x"});
  REQUIRE_FALSE(line);
  CHECK(line.error().message() == "core_collector: dump level '3x' is not a number 0-31");
  line = conf::parse_core_collector({"crashkit-capture", "--threads", "0"});
  REQUIRE_FALSE(line);
  CHECK(line.error().message() == "core_collector: --threads takes 1-1024, not '0'");
  line = conf::parse_core_collector({"crashkit-capture", "-c", "-l"});
  REQUIRE_FALSE(line);
  CHECK(line.error().message() ==
        "core_collector: choose one compression (-c, -l, -p, -z or --compress)");
  // makedumpfile takes the last compression, and an ELF dump is never compressed.
  auto md = conf::parse_core_collector({"makedumpfile", "-c", "-l", "-E"});
  REQUIRE(md);
  CHECK(capture::capture_request(md->settings, "v").compression == capture::Compression::none);
}

TEST_CASE("capture options: --help and --version are an outcome, not an error", "[options]") {
  auto help = command_line({"--help"});
  REQUIRE(help);
  CHECK_THAT(help->help, Catch::Contains("-d,--dump-level"));
  auto version = command_line({"--version"});
  REQUIRE(version);
  CHECK(version->help == "crashkit-capture 0.1");
  auto dump = command_line({});
  REQUIRE(dump);
  CHECK(dump->help.empty());
}
