#pragma once
// Range checks for VMCOREINFO values used as offsets, sizes, shifts and counts: every such value
// indexes something (a copied structure, a ring, a shift), so an impossible one is named and
// refused before it is used, never dereferenced.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crashkit/base/result.hpp"
#include "crashkit/capture/vmcoreinfo.hpp"
#include "struct_fields.hpp"

namespace crashkit::capture {

/// Any SIZE/OFFSET a kernel structure the capture copies could plausibly have; larger values are
/// garbage (struct page is 64–96 bytes, the printk structures well under 1 KiB).
inline constexpr std::int64_t kMaxLayoutValue = 1 << 16;

/// Largest SIZE(page) accepted: struct page is 64 bytes on x86_64, a few words more with debug
/// options (CONFIG_KMSAN, WANT_PAGE_VIRTUAL, LAST_CPUPID_NOT_IN_PAGE_FLAGS); 1 KiB is far beyond
/// any and keeps a chunk of copied struct pages small.
inline constexpr std::int64_t kMaxStructPageSize = 1024;
/// Smallest SIZE(page) accepted: struct page has held flags, a reference count, mapping, index
/// and an lru list head (five words) since 2.6.
inline constexpr std::int64_t kMinStructPageSize = 40;

/// True when a field of `width` bytes at `off` lies inside a structure of `size` bytes; no
/// overflow for any operands.
constexpr bool field_fits(std::uint64_t off, std::uint64_t width, std::uint64_t size) {
  return off <= size && width <= size - off;
}

/// "KEY=value": how a warning or error names an impossible VMCOREINFO value.
inline std::string key_value(const std::string& key, std::int64_t v) {
  return key + "=" + std::to_string(v);
}

/// Looks up the VMCOREINFO keys of one layout, collecting every missing or impossible one so the
/// error names them all at once.
class LayoutKeys {
public:
  explicit LayoutKeys(const Vmcoreinfo& info) : info_(info) {}

  std::uint64_t symbol(const std::string& name) {
    auto v = info_.symbol(name);
    if (!v)
      missing_.push_back("SYMBOL(" + name + ")");
    return v.value_or(0);
  }
  std::uint64_t size(const std::string& type) {
    return layout_value("SIZE(" + type + ")", info_.size(type));
  }
  std::uint64_t offset(const std::string& member) {
    return layout_value("OFFSET(" + member + ")", info_.offset(member));
  }
  /// A field of `width` bytes at `off` must lie inside a structure of `size` bytes.
  void fits(std::uint64_t off, std::uint64_t width, std::uint64_t size, const std::string& what) {
    if (!field_fits(off, width, size)) {
      bad_.push_back(what + " ends at " + std::to_string(off + width) + ", beyond the " +
                     std::to_string(size) + "-byte structure");
    }
  }
  bool complete() const { return missing_.empty() && bad_.empty(); }
  const std::vector<std::string>& missing() const { return missing_; }
  const std::vector<std::string>& bad() const { return bad_; }

  /// `unsupported` naming the missing keys, else `data` naming the impossible ones, prefixed
  /// with `prefix` (e.g. "dmesg: printk_ringbuffer").
  Status check(const std::string& prefix) const {
    if (!missing_.empty()) {
      return Error(ErrorCategory::unsupported,
                   prefix + ": VMCOREINFO lacks " + join_names(missing_));
    }
    if (!bad_.empty()) {
      return Error(ErrorCategory::data,
                   prefix + ": inconsistent VMCOREINFO layout: " + join_names(bad_));
    }
    return {};
  }

private:
  std::uint64_t layout_value(const std::string& key, std::optional<std::int64_t> v) {
    if (!v) {
      missing_.push_back(key);
      return 0;
    }
    if (*v < 0 || *v > kMaxLayoutValue) {
      bad_.push_back(key_value(key, *v));
      return 0;
    }
    return static_cast<std::uint64_t>(*v);
  }

  const Vmcoreinfo& info_;
  std::vector<std::string> missing_;
  std::vector<std::string> bad_;
};

} // namespace crashkit::capture
