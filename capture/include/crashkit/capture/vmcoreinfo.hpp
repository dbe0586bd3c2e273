#pragma once
/// VMCOREINFO: the KEY=value text the crashed kernel exported about itself. Everything the
/// filter knows about struct layouts and flag values comes from here, never from constants
/// of one kernel version.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crashkit::capture {

class Vmcoreinfo {
public:
  /// Parses the note text. Unparseable lines are kept in bad_lines() (not fatal: kernels add keys).
  static Vmcoreinfo parse(const std::string& text);

  bool empty() const { return raw_.empty(); }
  const std::string& text() const { return raw_; }
  const std::vector<std::string>& bad_lines() const { return bad_lines_; }

  /// "6.1.0-26-amd64"; empty when absent.
  std::string osrelease() const;
  std::optional<std::uint64_t> page_size() const;
  std::optional<std::uint64_t> crashtime() const;
  std::optional<std::uint64_t> kerneloffset() const;

  /// SYMBOL(name)= (hex).
  std::optional<std::uint64_t> symbol(const std::string& name) const;
  /// SIZE(type)=, OFFSET(type.member)=, LENGTH(name)= (decimal, hex accepted with 0x).
  std::optional<std::int64_t> size(const std::string& type) const;
  std::optional<std::int64_t> offset(const std::string& member) const;
  std::optional<std::int64_t> length(const std::string& name) const;
  /// NUMBER(name)= (decimal, may be negative; 0x.. hex accepted).
  std::optional<std::int64_t> number(const std::string& name) const;
  /// Any raw key, e.g. "OSRELEASE".
  std::optional<std::string> raw(const std::string& key) const;

  /// Kernel version from OSRELEASE as major*65536+minor*256+patch (0 when unknown). Used only
  /// to choose among encodings when VMCOREINFO alone is ambiguous; never for layouts.
  std::uint32_t kernel_version() const;

private:
  std::string raw_;
  std::map<std::string, std::string> kv_;
  std::vector<std::string> bad_lines_;
};

} // namespace crashkit::capture
