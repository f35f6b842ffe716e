#include "test_paths.h"

namespace mmguard::testing {

std::filesystem::path fixtures_dir() { return MMGUARD_FIXTURES; }
std::filesystem::path consoles_dir() { return MMGUARD_CONSOLES; }
std::filesystem::path schema_dir() { return MMGUARD_SCHEMA_DIR; }
std::filesystem::path guest_dir() { return MMGUARD_GUEST_DIR; }

}  // namespace mmguard::testing
