#include <catch2/catch.hpp>

#include "crashkit/loader/segment_plan.hpp"

using namespace crashkit::loader;
using crashkit::ErrorCategory;

namespace {

SegmentRequest high_request() {
  SegmentRequest r;
  r.crash = {0x42f000000, 0x43effffff}; // 256 MiB
  r.kernel_memsz = 0x2a5e000;
  r.kernel_alignment = 0x200000;
  r.kernel_pref_address = 0x1000000;
  r.initrd_size = 30 * 1024 * 1024 + 123;
  r.setup_size = 0x1000 + 2048;
  r.elfcorehdr_size = 0x1234;
  r.purgatory_size = 0x5000;
  return r;
}

void check_disjoint_inside(const SegmentPlan& p, const MemRange& crash) {
  for (std::size_t i = 0; i < p.segments.size(); ++i) {
    const auto& s = p.segments[i];
    CHECK(s.mem % kPageSize == 0);
    CHECK(s.memsz % kPageSize == 0);
    CHECK(s.mem >= crash.start);
    CHECK(s.mem + s.memsz <= crash.end + 1);
    if (i > 0)
      CHECK(p.segments[i - 1].mem + p.segments[i - 1].memsz <= s.mem);
  }
}

} // namespace

TEST_CASE("segments: kernel low, initrd high, the rest after the kernel", "[segments]") {
  auto req = high_request();
  auto p = plan_segments(req);
  REQUIRE(p);
  const std::vector<PlacedSegment> want = {
      {SegmentKind::kernel, 0x42f000000, 0x2a5e000},  {SegmentKind::setup, 0x431a5e000, 0x2000},
      {SegmentKind::elfcorehdr, 0x431a60000, 0x2000}, {SegmentKind::purgatory, 0x431a62000, 0x5000},
      {SegmentKind::initrd, 0x43d1ff000, 0x1e01000},
  };
  CHECK(p->segments == want);
  check_disjoint_inside(*p, req.crash);
  REQUIRE(p->find(SegmentKind::initrd));
  CHECK(p->find(SegmentKind::initrd)->mem == 0x43d1ff000);
}

TEST_CASE("segments: kernel alignment leaves a gap the small segments use", "[segments]") {
  auto req = high_request();
  req.crash = {0x5f100000, 0x7effffff};
  req.kernel_alignment = 0x1000000;
  req.initrd_size = 0;
  auto p = plan_segments(req);
  REQUIRE(p);
  const std::vector<PlacedSegment> want = {
      {SegmentKind::setup, 0x5f100000, 0x2000},
      {SegmentKind::elfcorehdr, 0x5f102000, 0x2000},
      {SegmentKind::purgatory, 0x5f104000, 0x5000},
      {SegmentKind::kernel, 0x60000000, 0x2a5e000},
  };
  CHECK(p->segments == want);
  CHECK_FALSE(p->find(SegmentKind::initrd));
}

TEST_CASE("segments: pref_address above the crash start is honoured", "[segments]") {
  auto req = high_request();
  req.crash = {0x0, 0x7ffffff};
  req.initrd_size = 0;
  auto p = plan_segments(req);
  REQUIRE(p);
  REQUIRE(p->find(SegmentKind::kernel));
  CHECK(p->find(SegmentKind::kernel)->mem == 0x1000000);
  CHECK(p->segments.front() == PlacedSegment{SegmentKind::setup, 0x0, 0x2000});
}

TEST_CASE("segments: initrd stays below initrd_addr_max", "[segments]") {
  auto req = high_request();
  req.crash = {0x5f000000, 0x7effffff};
  req.initrd_limit = 0x70000000;
  auto p = plan_segments(req);
  REQUIRE(p);
  REQUIRE(p->find(SegmentKind::initrd));
  CHECK(*p->find(SegmentKind::initrd) ==
        PlacedSegment{SegmentKind::initrd, 0x70000000 - 0x1e01000, 0x1e01000});
  check_disjoint_inside(*p, req.crash);
}

TEST_CASE("segments: a fixed-address kernel", "[segments]") {
  auto req = high_request();
  req.crash = {0x0, 0x7ffffff};
  req.kernel_relocatable = false;
  req.initrd_size = 0;
  auto p = plan_segments(req);
  REQUIRE(p);
  CHECK(p->find(SegmentKind::kernel)->mem == 0x1000000);

  req.crash = {0x42f000000, 0x43effffff};
  auto e = plan_segments(req);
  REQUIRE_FALSE(e);
  CHECK(e.error().category() == ErrorCategory::unsupported);
  CHECK_THAT(e.error().message(),
             Catch::Contains("kernel segment of 42.4 MiB (0x2a5e000) does not fit at its fixed "
                             "address 0x1000000"));
}

TEST_CASE("segments: an initrd larger than the reservation names both sizes", "[segments]") {
  auto req = high_request();
  req.initrd_size = 300ull << 20;
  auto e = plan_segments(req);
  REQUIRE_FALSE(e);
  CHECK(e.error().category() == ErrorCategory::unsupported);
  CHECK(e.error().message() ==
        "initrd segment of 300 MiB (0x12c00000) does not fit in crash kernel memory "
        "0x42f000000-0x43effffff (256 MiB), 213.6 MiB free, largest hole 213.6 MiB");
}

TEST_CASE("segments: one page must stay free for the control page", "[segments]") {
  SegmentRequest req;
  req.crash = {0x1000000, 0x1ffffff}; // 16 MiB
  req.kernel_alignment = 0x1000;
  req.kernel_pref_address = 0x1000000;
  req.setup_size = 1;
  req.elfcorehdr_size = 1;
  req.purgatory_size = 1;
  req.kernel_memsz = 0x1000000 - 4 * kPageSize;
  auto ok = plan_segments(req);
  REQUIRE(ok);
  CHECK(ok->segments.size() == 4);
  CHECK(ok->segments.back() == PlacedSegment{SegmentKind::purgatory, 0x1ffe000, 0x1000});

  req.kernel_memsz += kPageSize;
  auto e = plan_segments(req);
  REQUIRE_FALSE(e);
  CHECK_THAT(e.error().message(), Catch::Contains("no free page left for the kernel's kexec "
                                                  "control page"));
}

TEST_CASE("segments: malformed requests", "[segments]") {
  auto req = high_request();
  req.kernel_alignment = 0x300000;
  auto a = plan_segments(req);
  REQUIRE_FALSE(a);
  CHECK(a.error().category() == ErrorCategory::usage);
  CHECK_THAT(a.error().message(), Catch::Contains("0x300000"));

  req = high_request();
  req.elfcorehdr_size = 0;
  auto z = plan_segments(req);
  REQUIRE_FALSE(z);
  CHECK_THAT(z.error().message(), Catch::Contains("elfcorehdr segment of size 0"));

  req = high_request();
  req.crash = {0x42f000800, 0x43effffff};
  auto u = plan_segments(req);
  REQUIRE_FALSE(u);
  CHECK(u.error().category() == ErrorCategory::usage);
}
