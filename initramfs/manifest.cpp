#include "crashkit/initramfs/manifest.hpp"

#include <cerrno>
#include <nlohmann/json.hpp>

#include "crashkit/base/io.hpp"
#include "crashkit/base/json_text.hpp"
#include "crashkit/initramfs/root_dir.hpp"
#include "crashkit/initramfs/sha256.hpp"

namespace crashkit::initramfs {
namespace {

/// nullopt when the file does not exist.
Result<std::optional<std::string>> read_if_exists(const std::string& path) {
  auto data = read_whole_file(path);
  if (!data) {
    if (data.error().sys_errno() == ENOENT || data.error().sys_errno() == ENOTDIR)
      return std::optional<std::string>();
    return std::move(data).error();
  }
  return std::optional<std::string>(std::move(*data));
}

std::string first_difference(const std::map<std::string, std::string>& old_map,
                             const std::map<std::string, std::string>& new_map,
                             const std::string& what) {
  for (const auto& [k, v] : new_map) {
    auto it = old_map.find(k);
    if (it == old_map.end())
      return what + " " + k + " added";
    if (it->second != v)
      return what + " " + k + " changed";
  }
  for (const auto& [k, v] : old_map)
    if (!new_map.count(k))
      return what + " " + k + " removed";
  return "";
}

} // namespace

std::string Manifest::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = kManifestFormat;
  j["kernel"] = kernel;
  j["config_sha256"] = config_sha256;
  j["image_sha256"] = image_sha256;
  j["binaries"] = nlohmann::json(binaries);
  j["files"] = nlohmann::json(files);
  return json_text(j, 2) + "\n";
}

Result<Manifest> Manifest::parse(std::string_view text, const std::string& name) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error(ErrorCategory::data, "not JSON").with_path(name);
  if (!j.contains("format") || j["format"] != kManifestFormat)
    return Error(ErrorCategory::data,
                 "not a format " + std::to_string(kManifestFormat) + " crashkit manifest")
        .with_path(name);
  Manifest m;
  try {
    m.kernel = j.at("kernel").get<std::string>();
    m.config_sha256 = j.at("config_sha256").get<std::string>();
    m.image_sha256 = j.at("image_sha256").get<std::string>();
    m.binaries = j.at("binaries").get<std::map<std::string, std::string>>();
    m.files = j.at("files").get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCategory::data, std::string("bad manifest: ") + e.what()).with_path(name);
  }
  return m;
}

std::string manifest_path(const std::string& image) {
  return image + ".manifest.json";
}

Result<std::string> stale_reason(const std::string& image, const Manifest& fresh) {
  auto mtext = CK_TRY(read_if_exists(manifest_path(image)));
  if (!mtext)
    return std::string("no manifest beside the image");
  auto old = Manifest::parse(*mtext, manifest_path(image));
  if (!old)
    return "unreadable manifest (" + old.error().what() + ")";
  if (old->kernel != fresh.kernel)
    return "kernel " + old->kernel + " → " + fresh.kernel;
  if (old->config_sha256 != fresh.config_sha256)
    return std::string("configuration changed");
  if (auto d = first_difference(old->binaries, fresh.binaries, "program"); !d.empty())
    return d;
  if (auto d = first_difference(old->files, fresh.files, "file"); !d.empty())
    return d;
  auto img = CK_TRY(read_if_exists(image));
  if (!img)
    return std::string("no image");
  if (sha256_hex(*img) != old->image_sha256)
    return std::string("the image is not the one the manifest describes");
  return std::string();
}

Result<bool> is_stale(const std::string& image, const Manifest& fresh) {
  auto r = CK_TRY(stale_reason(image, fresh));
  return !r.empty();
}

} // namespace crashkit::initramfs
