// Prepares the kernel source tree in build/src: imports the base source once
// (Debian's linux-source tarball or a user's tree, read-only), stacks the
// project's patches and KUnit hook as commits, and checks the result out
// touching only files whose content changed, so incremental builds stay
// incremental.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "workspace.h"

namespace mmguard {

struct TreeOptions {
    std::filesystem::path tarball = "/usr/src/linux-source-6.12.tar.xz";
    std::filesystem::path ksrc;                 // a user's tree instead of the tarball
    bool apply_series = true;                   // false: base kernel (no project patches)
    std::vector<std::filesystem::path> extra;   // patches on top (mutations)
    bool force = false;                         // discard local edits in build/src
};

struct PreparedTree {
    std::string base_commit;
    std::string head_commit;
    std::vector<std::string> applied;   // subjects, in order
    std::vector<std::string> series_commits;  // one commit per patches/series entry, in order
    bool checked_out = false;           // false: build/src already was this tree
    std::string kernel_version;         // from the top-level Makefile
};

// Names of the patches in patches/series, in order (comments and blank lines
// skipped). Throws HarnessError on a quilt option it does not support.
std::vector<std::string> read_series(const std::filesystem::path& series_file);

PreparedTree prepare_tree(const Workspace& ws, const TreeOptions& options);

}  // namespace mmguard
