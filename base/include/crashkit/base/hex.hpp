#pragma once
/// "0x1f000": how every crashkit message prints addresses, offsets and sizes.

#include <cstdint>
#include <string>

namespace crashkit {

std::string hex(std::uint64_t v);

} // namespace crashkit
