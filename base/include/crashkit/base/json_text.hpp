#pragma once
/// JSON text that cannot fail on what it carries: strings taken from a crashed kernel
/// (OSRELEASE, panic text) or from disk may hold bytes that are not UTF-8, and nlohmann's plain
/// dump() throws type_error.316 on them. Here such bytes become U+FFFD. Thread-safe.

#include <nlohmann/json.hpp>

#include <string>

namespace crashkit {

/// j.dump(indent) with invalid UTF-8 replaced instead of thrown; indent -1 is one line.
inline std::string json_text(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace crashkit
