// `mmguard gates`: the stack judged by the kernel's own gates. The series is
// git format-patch output that git am takes; checkpatch.pl --strict on every
// patch and on the KUnit sources; every object the stack touches built with
// W=1 (and sparse) in each configuration of qemu/gates/configs/, with no
// diagnostic that base built the same way does not have; and, where a
// configuration says so, object code identical to base's.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kernel_tree.h"
#include "workspace.h"

namespace mmguard {

struct GatesOptions {
    bool fast = false;                   // only the configurations marked "fast"
    std::vector<std::string> configs;    // only these (names); empty: all
    int jobs = 0;
};

struct GateRow {
    std::string gate;                    // "series", "checkpatch", "config"
    std::string name;
    bool ok = true;
    std::string verdict_detail;          // one line for the table
    int base_diagnostics = -1;           // -1: base not built (patched had none)
    int patched_diagnostics = 0;
    std::vector<std::string> new_diagnostics;
    int link_new_references = -1;        // config rows: references base's same object lacks; -1: not checked
    std::vector<std::string> link_errors;  // references nothing built defines, double definitions
    std::vector<std::string> notes;      // details for gates.md
    double seconds = 0;
};

// Runs the gates, prints the table, writes gates.md and gates.json to
// ws.out and to its parent (out/). Returns the tool's exit code.
int run_gates(const Workspace& ws, const TreeOptions& tree_options, const GatesOptions& options);

}  // namespace mmguard
