#include <catch2/catch.hpp>

#include "bzimage_sample.hpp"
#include "crashkit/loader/bzimage.hpp"

using namespace crashkit::loader;
using Catch::Contains;

namespace {
crashkit::Result<BzImage> parse(const std::vector<std::byte>& b) {
  return parse_bzimage(b, b.size(), "vmlinuz");
}
} // namespace

TEST_CASE("bzImage: the fields a kexec load uses", "[bzimage]") {
  auto img = parse(samples::synthetic_bzimage());
  REQUIRE(img);
  CHECK(img->protocol == 0x020f);
  CHECK(img->setup_size == 5 * 512);
  CHECK(img->header_end == 0x26c);
  CHECK(img->payload_size == 64 * 1024);
  CHECK(img->xloadflags == 0x7f);
  CHECK(img->relocatable);
  CHECK(img->kernel_alignment == 0x200000);
  CHECK(img->pref_address == 0x1000000);
  CHECK(img->init_size == 0x3f98000);
  CHECK(img->cmdline_size == 2047);
  CHECK(img->initrd_addr_max == 0x7fffffff);
}

TEST_CASE("bzImage: setup_sects 0 means 4", "[bzimage]") {
  samples::BzImageShape s;
  s.setup_sects = 0;
  auto b = samples::synthetic_bzimage(s);
  auto img = parse(b);
  REQUIRE(img);
  CHECK(img->setup_size == 5 * 512);
}

TEST_CASE("bzImage: refusals name the file and the offset", "[bzimage]") {
  SECTION("random bytes") {
    std::vector<std::byte> b(8192);
    for (std::size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<std::byte>(i * 7 + 3);
    auto r = parse(b);
    REQUIRE_FALSE(r);
    CHECK(r.error().category() == crashkit::ErrorCategory::data);
    CHECK_THAT(r.error().message(), Contains("vmlinuz: not a bzImage") && Contains("0x202"));
  }
  SECTION("shorter than a header") {
    std::vector<std::byte> b(100);
    auto r = parse(b);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Contains("not a bzImage (100 bytes"));
  }
  SECTION("header fields out of range, one per row") {
    struct Row {
      const char* what;
      void (*bend)(samples::BzImageShape&);
      const char* message;
    };
    const Row rows[] = {
        {"truncated", [](samples::BzImageShape& s) { s.drop_tail = 1000; },
         "truncated: the setup header (offsets 0x1f1, 0x1f4) declares 68096 bytes, the file has "
         "67096"},
        {"old protocol", [](samples::BzImageShape& s) { s.protocol = 0x020b; },
         "boot protocol 2.11 (offset 0x206)"},
        {"no 64-bit entry", [](samples::BzImageShape& s) { s.xloadflags = 0x7e; },
         "no 64-bit entry point (xloadflags at 0x236 lacks XLF_KERNEL_64)"},
        {"alignment", [](samples::BzImageShape& s) { s.kernel_alignment = 0x300000; },
         "kernel_alignment 0x300000 (offset 0x230)"},
        {"init_size", [](samples::BzImageShape& s) { s.init_size = 4096; },
         "init_size 0x1000 (offset 0x260)"},
    };
    for (const auto& row : rows) {
      INFO(row.what);
      samples::BzImageShape shape;
      row.bend(shape);
      auto r = parse(samples::synthetic_bzimage(shape));
      REQUIRE_FALSE(r);
      CHECK(r.error().category() == crashkit::ErrorCategory::data);
      CHECK_THAT(r.error().message(), Contains("vmlinuz: ") && Contains(row.message));
    }
  }
}
