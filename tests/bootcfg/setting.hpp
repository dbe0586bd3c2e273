#pragma once
// The crashkernel= setting a bootcfg test asks to write, from its text ("256M", "1G-:256M").

#include <catch2/catch.hpp>

#include <string_view>

#include "crashkit/conf/crashkernel.hpp"

namespace bootcfg_test {

inline crashkit::conf::CrashkernelSetting ck(std::string_view v) {
  auto r = crashkit::conf::parse_crashkernel(v);
  REQUIRE(r);
  return *r;
}

} // namespace bootcfg_test
