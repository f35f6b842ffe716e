// Whole-file writes that readers never see half done: the content goes to a
// temporary file beside the target, is checked and flushed, then renamed over it.
#pragma once

#include <filesystem>
#include <string_view>

namespace mmguard {

// Throws HarnessError naming `path` when any step fails (no directory, disk
// full, rename refused); the temporary file is removed then.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace mmguard
