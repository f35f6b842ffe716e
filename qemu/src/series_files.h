// The stack's patch files are what `git format-patch` writes from the
// stack's commits over the base: this regenerates them, checks that the
// committed files are exactly that (so each applies with no offset and no
// fuzz), exports the series with a cover letter for `git am`, and checks
// that `git am` of the export gives the very tree the tool builds.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kernel_tree.h"
#include "workspace.h"

namespace mmguard {

// The number a patches/series entry carries in its file name
// ("0020-mm-...patch" -> 20), or 0 when it has none.
int patch_number(const std::string& file_name);

// Writes each commit of the stack with `git format-patch` into `dir`,
// numbered as its patches/series entry; returns the files in series order.
std::vector<fs::path> format_series_commits(const Workspace& ws, const PreparedTree& tree, const fs::path& dir);

struct SeriesDrift {
    std::string name;   // the committed file
    std::string why;    // "differs from git format-patch at line N: ...", "renamed to X"
};

// Compares regenerated files (series order) with the committed ones named in
// patches/series. Only the first line ("From <commit> Mon Sep 17 ...") may
// differ: it names a commit of the machine that made it.
std::vector<SeriesDrift> compare_series(const std::vector<fs::path>& regenerated,
                                        const std::vector<std::string>& committed_names,
                                        const fs::path& patches_dir);

// Replaces the committed files with the regenerated ones and renames the
// entries of patches/series whose subject (so file name) changed.
void update_series(const std::vector<fs::path>& regenerated, const std::vector<std::string>& committed_names,
                   const fs::path& patches_dir);

// `git format-patch --cover-letter --base` of the whole stack (patches and
// the KUnit hook) into `dir`; the cover letter's subject and blurb come from
// patches/cover-letter (first line: subject; the rest: blurb).
std::vector<fs::path> export_series_with_cover(const Workspace& ws, const PreparedTree& tree, const fs::path& dir);

// Applies `files` (an export) with `git am` onto the base in a scratch work
// tree and returns the resulting tree id; throws HarnessError if git am fails.
std::string git_am_tree(const Workspace& ws, const PreparedTree& tree, const std::vector<fs::path>& files);

struct SeriesCheck {
    std::vector<SeriesDrift> drift;       // committed files that are not format-patch output
    std::size_t patches = 0;              // files compared
    std::vector<fs::path> exported;       // the export (cover letter first)
    std::string am_tree;                  // tree id after git am of the export
    std::string built_tree;               // tree id the tool builds
    bool ok() const { return drift.empty() && !am_tree.empty() && am_tree == built_tree; }
};

// Both checks of `mmguard series --check`; regenerated files go to
// scratch/format-patch, the export to scratch/series.
SeriesCheck check_series(const Workspace& ws, const PreparedTree& tree, const fs::path& scratch);

}  // namespace mmguard
