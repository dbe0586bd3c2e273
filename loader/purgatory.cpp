#include "crashkit/loader/purgatory.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

#include "purgatory_abi.h"

namespace crashkit::loader {
namespace detail {
extern const unsigned char kPurgatoryImage[];
extern const std::size_t kPurgatoryImageSize;
} // namespace detail

static_assert(offsetof(ck_purgatory_params, entry_rip) == CK_PARAMS_ENTRY_RIP);
static_assert(offsetof(ck_purgatory_params, entry_rsi) == CK_PARAMS_ENTRY_RSI);
static_assert(sizeof(ck_purgatory_params) == CK_PARAMS_SIZE);

std::size_t purgatory_size() {
  return detail::kPurgatoryImageSize;
}

std::span<const std::byte> purgatory_template() {
  return {reinterpret_cast<const std::byte*>(detail::kPurgatoryImage), detail::kPurgatoryImageSize};
}

std::array<std::uint8_t, 32> segments_digest(std::span<const DigestRegion> regions) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::array<std::uint8_t, 32> out{};
  unsigned len = 0;
  // These fail only on allocation failure inside OpenSSL; an all-zero digest then makes the
  // purgatory refuse to boot rather than boot unchecked.
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return out;
  for (const auto& r : regions)
    if (!r.bytes.empty())
      EVP_DigestUpdate(ctx.get(), r.bytes.data(), r.bytes.size());
  EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
  return out;
}

Result<std::vector<std::byte>> build_purgatory(const PurgatoryRequest& req) {
  if (req.regions.size() > CK_PURGATORY_MAX_REGIONS)
    return Error(ErrorCategory::usage, "purgatory: " + std::to_string(req.regions.size()) +
                                           " regions to check, at most " +
                                           std::to_string(CK_PURGATORY_MAX_REGIONS));
  auto tmpl = purgatory_template();
  std::vector<std::byte> img(tmpl.begin(), tmpl.end());
  ck_purgatory_params p{};
  if (img.size() < CK_PURGATORY_PARAMS_OFFSET + sizeof p)
    return Error(ErrorCategory::internal, "purgatory: embedded image is too small");
  std::memcpy(&p, img.data() + CK_PURGATORY_PARAMS_OFFSET, sizeof p);
  if (p.magic != CK_PURGATORY_MAGIC)
    return Error(ErrorCategory::internal, "purgatory: no parameter block at offset " +
                                              std::to_string(CK_PURGATORY_PARAMS_OFFSET) +
                                              " of the embedded image");
  p.entry_rip = req.entry_rip;
  p.entry_rsi = req.entry_rsi;
  p.nr_regions = req.regions.size();
  for (std::size_t i = 0; i < req.regions.size(); ++i)
    p.regions[i] = {req.regions[i].mem, req.regions[i].bytes.size()};
  const auto d = segments_digest(req.regions);
  std::memcpy(p.digest, d.data(), d.size());
  if (req.corrupt_digest)
    p.digest[0] ^= 1;
  std::memcpy(img.data() + CK_PURGATORY_PARAMS_OFFSET, &p, sizeof p);
  return img;
}

} // namespace crashkit::loader
