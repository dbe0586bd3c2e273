#pragma once
/// Where the capture image keeps what `crashkit rebuild` puts in it and the capture init reads:
/// the contract between initramfs::plan_image() and capture_init::run_init().

#include <string_view>

namespace crashkit::initramfs::image_layout {

inline constexpr const char* kConfig = "/etc/crashkit/crashkit.conf";
/// Absolute .ko paths, dependencies first, one a line.
inline constexpr const char* kModulesLoad = "/etc/crashkit/modules.load";
/// kdump_pre and kdump_post, copied in as kHooksDir/kHookPreName and kHooksDir/kHookPostName.
inline constexpr const char* kHooksDir = "/etc/crashkit/hooks";
inline constexpr const char* kHookPreName = "pre";
inline constexpr const char* kHookPostName = "post";
inline constexpr const char* kHookPre = "/etc/crashkit/hooks/pre";
inline constexpr const char* kHookPost = "/etc/crashkit/hooks/post";

namespace detail {
constexpr bool is_hook(std::string_view path, std::string_view name) {
  const std::string_view dir = kHooksDir;
  return path.size() == dir.size() + 1 + name.size() && path.starts_with(dir) &&
         path[dir.size()] == '/' && path.ends_with(name);
}
static_assert(is_hook(kHookPre, kHookPreName) && is_hook(kHookPost, kHookPostName));
} // namespace detail

} // namespace crashkit::initramfs::image_layout
