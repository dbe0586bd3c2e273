#include <catch2/catch.hpp>

#include "crashkit/conf/crashkernel.hpp"

TEST_CASE("smoke") { REQUIRE(crashkit::conf::parse_crashkernel("256M")); }
