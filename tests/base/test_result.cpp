#include <catch2/catch.hpp>

#include <crashkit/base/result.hpp>

#include <memory>
#include <string>

using crashkit::Error;
using crashkit::ErrorCategory;
using crashkit::Result;
using crashkit::Status;

namespace {

Result<std::unique_ptr<int>> make(bool ok) {
  if (!ok)
    return Error(ErrorCategory::data, "bad magic").with_path("/proc/vmcore").with_offset(0x40);
  return std::make_unique<int>(7);
}

Status check(bool ok) {
  if (!ok)
    return Error::from_errno(ENOSPC, "write");
  return {};
}

int steps = 0;

Result<int> twice(bool ok) {
  std::unique_ptr<int> p = CK_TRY(make(ok)); // move-only values come out whole
  ++steps;
  return *p * 2;
}

Status both(bool first, bool second) {
  CK_TRY(check(first));
  ++steps;
  CK_TRY_CONTEXT(check(second), "dump");
  ++steps;
  return {};
}

Result<int> with_context(bool ok) {
  return CK_TRY_CONTEXT(twice(ok), "read header") + 1;
}

} // namespace

TEST_CASE("CK_TRY yields the value or returns the error unchanged", "[base][result]") {
  steps = 0;
  auto good = twice(true);
  REQUIRE(good);
  CHECK(*good == 14);
  CHECK(steps == 1);

  auto bad = twice(false);
  REQUIRE_FALSE(bad);
  CHECK(steps == 1); // nothing after the failed step ran
  CHECK(bad.error().category() == ErrorCategory::data);
  CHECK(bad.error().path() == "/proc/vmcore");
  CHECK(bad.error().offset() == 0x40u);
  CHECK(bad.error().message() == "/proc/vmcore: bad magic at offset 0x40");
}

TEST_CASE("CK_TRY on a Status and CK_TRY_CONTEXT prepend nothing / the outer step",
          "[base][result]") {
  steps = 0;
  CHECK(both(true, true));
  CHECK(steps == 2);

  steps = 0;
  auto first = both(false, true);
  REQUIRE_FALSE(first);
  CHECK(steps == 0);
  CHECK(first.error().what() == "write");
  CHECK(first.error().category() == ErrorCategory::no_space);

  steps = 0;
  auto second = both(true, false);
  REQUIRE_FALSE(second);
  CHECK(steps == 1);
  CHECK(second.error().what() == "dump: write");

  auto ctx = with_context(false);
  REQUIRE_FALSE(ctx);
  CHECK(ctx.error().what() == "read header: bad magic");
  CHECK(ctx.error().path() == "/proc/vmcore");
  CHECK(*with_context(true) == 15);
}
