#pragma once
// Reading fields of kernel structures the capture copied out of the vmcore (page, printk
// descriptors), at offsets VMCOREINFO gave, and naming what VMCOREINFO lacked.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace crashkit::capture {

/// The T at byte offset off of a copied structure; memcpy because VMCOREINFO offsets carry no
/// alignment promise for the copy.
template <typename T, typename Offset> T load_field(const std::uint8_t* p, Offset off) {
  T v;
  std::memcpy(&v, p + off, sizeof v);
  return v;
}

/// "a, b, c": the missing VMCOREINFO entries an error lists.
inline std::string join_names(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += (s.empty() ? "" : ", ") + x;
  return s;
}

} // namespace crashkit::capture
