// A mutant as a unified diff against the tree (what `git apply` takes), and
// its application to a file's lines in memory.
#pragma once

#include <string>
#include <vector>

#include "mutant_operators.h"

namespace mmguard {

// `--- a/FILE` / `+++ b/FILE` with one hunk per group of edits (3 lines of
// context, hunks that touch merged). Throws HarnessError on an edit past the
// end of `lines`.
std::string unified_diff(const std::string& file, const std::vector<std::string>& lines,
                         const std::vector<LineEdit>& edits);

// The file's lines with the edits applied.
std::vector<std::string> apply_edits(std::vector<std::string> lines, const std::vector<LineEdit>& edits);

}  // namespace mmguard
