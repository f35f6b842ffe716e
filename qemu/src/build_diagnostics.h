// Reading what the kernel's own gates print: compiler and sparse
// diagnostics of a kbuild run, and checkpatch.pl --terse messages.
#pragma once

#include <string>
#include <vector>

#include "gate_data.h"

namespace mmguard {

// The warnings and errors of a build's output (gcc with W=1, sparse with
// C=2), each as "FILE: warning: MESSAGE": the path from the tree's top, no
// line or column, so that a diagnostic keeps its identity when a patch
// moves code. Notes and "In function" context lines are not diagnostics.
std::vector<std::string> build_diagnostics(const std::string& output);

// What `patched` has that `base` has not, counting repeats (a multiset
// difference), in the order of `patched`.
std::vector<std::string> new_diagnostics(const std::vector<std::string>& base,
                                         const std::vector<std::string>& patched);

struct CheckpatchMessage {
    std::string file;      // as checkpatch names it
    int line = 0;
    std::string level;     // ERROR, WARNING, CHECK
    std::string message;
    std::string allowed_because;  // "" unless an AllowedMessage matches
};

// Parses `checkpatch.pl --terse` output and marks the allowed messages.
std::vector<CheckpatchMessage> checkpatch_messages(const std::string& output,
                                                   const std::vector<AllowedMessage>& allowed);

}  // namespace mmguard
