// VMCOREINFO values, mutated as values: a synthetic core from the fixture builder (a mix of
// every page kind) whose VMCOREINFO keys get values chosen from the input - boundary numbers,
// the original value nudged, any 64-bit number, or any text - then opened, filtered and
// estimated as the capture does, and its dmesg extracted.
//
// The core is written once per process. Its VMCOREINFO note carries a padding key, so each
// input's text is rewritten in place inside the same note size (the rest padded with
// newlines, which the parser skips).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "crashkit/fixtures/vmcore_builder.hpp"
#include "fuzz_support.hpp"
#include "vmcore_pipeline.hpp"

namespace {

constexpr const char* kPadKey = "CRASHKIT_FUZZ_PAD";
constexpr std::size_t kPadBytes = 4096;

struct Base {
  std::string path;
  std::vector<std::pair<std::string, std::string>> kv; // as the builder wrote them
  std::uint64_t text_offset = 0;                       // file offset of the note's text
  std::size_t text_size = 0;
};

Base g_base;

std::vector<std::pair<std::string, std::string>> parse_lines(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> kv;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos)
      nl = text.size();
    const std::string line = text.substr(at, nl - at);
    const std::size_t eq = line.find('=');
    if (eq != std::string::npos && line.compare(0, eq, kPadKey) != 0)
      kv.emplace_back(line.substr(0, eq), line.substr(eq + 1));
    at = nl + 1;
  }
  return kv;
}

void build_base() {
  crashkit::fixtures::VmcoreSpec spec;
  spec.ram = crashkit::fixtures::pc_ram_layout(64ULL << 20);
  spec.sparse_file = true;
  spec.vmcoreinfo_overrides.emplace_back(kPadKey, std::string(kPadBytes, 'x'));
  auto b = crashkit::fixtures::VmcoreBuilder::create(spec);
  if (!b || !b->fill_mix(7))
    std::abort();
  g_base.path = crashkit::fuzz::scratch_dir() + "/base.core";
  if (!b->write(g_base.path))
    std::abort();
  const std::string text = b->vmcoreinfo_text();
  g_base.kv = parse_lines(text);
  // Find the note text in the file: it lies in the notes right after the headers.
  std::vector<char> head(1 << 20);
  FILE* f = std::fopen(g_base.path.c_str(), "rb");
  if (!f)
    std::abort();
  const std::size_t n = std::fread(head.data(), 1, head.size(), f);
  std::fclose(f);
  auto it = std::search(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(n), text.begin(),
                        text.end());
  if (it == head.begin() + static_cast<std::ptrdiff_t>(n))
    std::abort();
  g_base.text_offset = static_cast<std::uint64_t>(it - head.begin());
  g_base.text_size = text.size();
}

bool is_hex_key(const std::string& key) {
  return key.rfind("SYMBOL(", 0) == 0 || key == "KERNELOFFSET";
}

std::string format_value(const std::string& key, std::int64_t v) {
  char buf[32];
  if (is_hex_key(key))
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  return buf;
}

std::string mutated_value(FuzzedDataProvider& in, const std::string& key,
                          const std::string& original) {
  static constexpr std::int64_t kBoundaries[] = {0,
                                                 1,
                                                 -1,
                                                 2,
                                                 7,
                                                 8,
                                                 31,
                                                 32,
                                                 52,
                                                 63,
                                                 64,
                                                 65,
                                                 4095,
                                                 4096,
                                                 4097,
                                                 65536,
                                                 1 << 20,
                                                 1 << 30,
                                                 0x7fffffff,
                                                 0x80000000LL,
                                                 0xffffffffLL,
                                                 0x100000000LL,
                                                 INT64_MAX,
                                                 INT64_MIN,
                                                 INT64_MIN + 1,
                                                 -4096};
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
  case 0:
    return format_value(key, in.PickValueInArray(kBoundaries));
  case 1: {
    const std::int64_t base = static_cast<std::int64_t>(
        std::strtoull(original.c_str(), nullptr, is_hex_key(key) ? 16 : 0));
    const auto delta = in.ConsumeIntegralInRange<std::int64_t>(-4096, 4096);
    return format_value(key, static_cast<std::int64_t>(static_cast<std::uint64_t>(base) +
                                                       static_cast<std::uint64_t>(delta)));
  }
  case 2:
    return format_value(key, in.ConsumeIntegral<std::int64_t>());
  case 3:
    return "0x" + format_value("SYMBOL()", in.ConsumeIntegral<std::int64_t>());
  default:
    return in.ConsumeRandomLengthString(40);
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  crashkit::fuzz::quiet_logging();
  build_base();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  auto kv = g_base.kv;
  const int level = in.PickValueInArray({31, 1, 17, 0});
  const int edits = in.ConsumeIntegralInRange<int>(1, 6);
  for (int i = 0; i < edits && in.remaining_bytes() > 0; ++i) {
    const std::size_t k = in.ConsumeIntegralInRange<std::size_t>(0, kv.size() - 1);
    switch (in.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: // drop the key
      kv.erase(kv.begin() + static_cast<std::ptrdiff_t>(k));
      if (kv.empty())
        return 0;
      break;
    case 1: // the key twice, the later value differing
      kv.emplace_back(kv[k].first, mutated_value(in, kv[k].first, kv[k].second));
      break;
    default:
      kv[k].second = mutated_value(in, kv[k].first, kv[k].second);
    }
  }
  std::string text;
  for (const auto& [key, value] : kv)
    text += key + "=" + value + "\n";
  // CRASHKIT_FUZZ_SHOW=1: print the lines that differ from the fixture's (reading a crash).
  if (std::getenv("CRASHKIT_FUZZ_SHOW")) {
    for (const auto& line : kv)
      if (std::find(g_base.kv.begin(), g_base.kv.end(), line) == g_base.kv.end())
        std::fprintf(stderr, "VMCOREINFO %s=%s\n", line.first.c_str(), line.second.c_str());
  }
  if (text.size() > g_base.text_size)
    return -1; // does not fit in the note: keep it out of the corpus
  text.resize(g_base.text_size, '\n');
  FILE* f = std::fopen(g_base.path.c_str(), "r+b");
  if (!f || std::fseek(f, static_cast<long>(g_base.text_offset), SEEK_SET) != 0 ||
      std::fwrite(text.data(), 1, text.size(), f) != text.size())
    std::abort();
  std::fclose(f);
  crashkit::fuzz::run_vmcore_pipeline(g_base.path, level);
  return 0;
}
