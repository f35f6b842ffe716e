// Configures (minimal base + the project's fragments) and builds the kernel
// in build/obj, incrementally.
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "workspace.h"

namespace mmguard {

// Requested options of the fragments: name -> value ("y", "m", "64",
// "\"str\"", or "n" for "# CONFIG_X is not set").
std::map<std::string, std::string> parse_config_fragment(const std::string& text);

// The requested options that the resulting .config does not have, as
// "CONFIG_X: wanted y, got n" lines.
std::vector<std::string> missing_options(const std::map<std::string, std::string>& wanted,
                                         const std::string& dot_config);

// Every symbol a "config X" / "menuconfig X" line declares in the Kconfig*
// files under `dir` (recursively), or in `dir` itself when it is a file.
std::set<std::string> kconfig_symbols(const std::filesystem::path& dir);

// The requested options (set or "is not set") that no Kconfig declares, as
// "CONFIG_X" names: a typo, or an option of another kernel version.
std::vector<std::string> unknown_options(const std::map<std::string, std::string>& wanted,
                                         const std::set<std::string>& symbols);

struct BuildResult {
    bool reconfigured = false;
    int compiled = 0;        // objects compiled (CC lines), 0 when nothing changed
    double seconds = 0;
    std::filesystem::path bzimage;
};

struct BuildOptions {
    int jobs = 0;            // 0: number of CPUs + 1
    std::filesystem::path log;
    // Fragments merged after kunit/configs/*.config (the coverage profile's
    // qemu/coverage/gcov.config); checked like the others.
    std::vector<std::filesystem::path> extra_fragments;
};

BuildResult build_kernel(const Workspace& ws, const BuildOptions& options);

// kunit/configs/*.config in name order, as one allnoconfig fragment.
std::string project_config_fragments(const Workspace& ws);

// The environment of every kbuild make: ccache path hashing, reproducible
// version strings.
std::vector<std::pair<std::string, std::string>> kbuild_env();

}  // namespace mmguard
