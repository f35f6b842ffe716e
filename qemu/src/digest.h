// Content digests for cache keys and identifiers.
#pragma once
#include <string>

namespace mmguard {

// The lowercase hex SHA-256 of `data`.
std::string sha256_hex(const std::string& data);

}  // namespace mmguard
