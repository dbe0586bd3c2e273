#include "crashkit/capture/vmcoreinfo.hpp"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace crashkit::capture {
namespace {

// Kernels print SIZE/OFFSET/LENGTH/NUMBER with %lu/%ld, a few with 0x%lx; accept both, and reject
// trailing garbage rather than guess.
std::optional<std::int64_t> parse_signed(const std::string& v) {
  if (v.empty())
    return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 0);
  if (errno == 0 && end && *end == '\0')
    return static_cast<std::int64_t>(x);
  errno = 0;
  unsigned long long u = std::strtoull(v.c_str(), &end, 0);
  if (errno == 0 && end && *end == '\0')
    return static_cast<std::int64_t>(u);
  return std::nullopt;
}

std::optional<std::uint64_t> parse_hex(const std::string& v) {
  if (v.empty())
    return std::nullopt;
  errno = 0;
  char* end = nullptr;
  unsigned long long x = std::strtoull(v.c_str(), &end, 16);
  if (errno != 0 || !end || *end != '\0')
    return std::nullopt;
  return static_cast<std::uint64_t>(x);
}

} // namespace

Vmcoreinfo Vmcoreinfo::parse(const std::string& text) {
  Vmcoreinfo info;
  info.raw_ = text;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      info.bad_lines_.push_back(line);
      continue;
    }
    info.kv_[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return info;
}

std::optional<std::string> Vmcoreinfo::raw(const std::string& key) const {
  auto it = kv_.find(key);
  if (it == kv_.end())
    return std::nullopt;
  return it->second;
}

std::string Vmcoreinfo::osrelease() const {
  return raw("OSRELEASE").value_or("");
}

std::optional<std::uint64_t> Vmcoreinfo::page_size() const {
  auto v = raw("PAGESIZE");
  if (!v)
    return std::nullopt;
  auto n = parse_signed(*v);
  if (!n || *n <= 0)
    return std::nullopt;
  return static_cast<std::uint64_t>(*n);
}

std::optional<std::uint64_t> Vmcoreinfo::crashtime() const {
  auto v = raw("CRASHTIME");
  if (!v)
    return std::nullopt;
  auto n = parse_signed(*v);
  if (!n)
    return std::nullopt;
  return static_cast<std::uint64_t>(*n);
}

std::optional<std::uint64_t> Vmcoreinfo::kerneloffset() const {
  auto v = raw("KERNELOFFSET");
  return v ? parse_hex(*v) : std::nullopt;
}

std::optional<std::uint64_t> Vmcoreinfo::symbol(const std::string& name) const {
  auto v = raw("SYMBOL(" + name + ")");
  return v ? parse_hex(*v) : std::nullopt;
}

std::optional<std::int64_t> Vmcoreinfo::size(const std::string& type) const {
  auto v = raw("SIZE(" + type + ")");
  return v ? parse_signed(*v) : std::nullopt;
}

std::optional<std::int64_t> Vmcoreinfo::offset(const std::string& member) const {
  auto v = raw("OFFSET(" + member + ")");
  return v ? parse_signed(*v) : std::nullopt;
}

std::optional<std::int64_t> Vmcoreinfo::length(const std::string& name) const {
  auto v = raw("LENGTH(" + name + ")");
  return v ? parse_signed(*v) : std::nullopt;
}

std::optional<std::int64_t> Vmcoreinfo::number(const std::string& name) const {
  auto v = raw("NUMBER(" + name + ")");
  return v ? parse_signed(*v) : std::nullopt;
}

std::uint32_t Vmcoreinfo::kernel_version() const {
  std::string r = osrelease();
  unsigned a = 0, b = 0, c = 0;
  if (std::sscanf(r.c_str(), "%u.%u.%u", &a, &b, &c) < 2)
    return 0;
  return (a << 16) | (b << 8) | (c > 255 ? 255 : c);
}

} // namespace crashkit::capture
