// Whole-file reads and writes for the tool's own files. A write goes to a
// temporary file beside the target and is renamed over it, so a full disk
// or a crash never leaves a half-written file behind.
#pragma once

#include <filesystem>
#include <string>

namespace mmguard {

// The file's bytes; throws HarnessError naming the path if it cannot be read.
std::string read_file(const std::filesystem::path& path);

// Writes `content` to `path` atomically (temp + rename); throws HarnessError
// naming the path on any failure, and leaves no temporary file behind.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace mmguard
