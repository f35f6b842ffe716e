// Where the tests' data lives in the checkout. Only test_paths.cpp is
// compiled with the absolute paths, so every other test compiles the same
// in any clone (and ccache can reuse it).
#pragma once
#include <filesystem>

namespace mmguard::testing {

std::filesystem::path fixtures_dir();   // qemu/tests/fixtures
std::filesystem::path consoles_dir();   // qemu/tests/testdata/consoles
std::filesystem::path schema_dir();     // qemu/schema
std::filesystem::path guest_dir();      // qemu/guest

}  // namespace mmguard::testing
