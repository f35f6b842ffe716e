// `mmguard mm-selftests`: the kernel's own tools/testing/selftests/mm
// programs, built static from the tree, run in one boot of the base kernel
// and one of the patched kernel (same config, both bzImages kept), compared
// per test (mm_selftests_compare.h). Writes OUT/mm-selftests.md and .json.
#pragma once
#include <CLI/CLI.hpp>

#include "run_options.h"

namespace mmguard {

struct MmSelftestsOptions {
    int timeout = 180;                 // seconds per program
    std::vector<std::string> only;     // run only these programs (default: the whole chosen set)
    bool list = false;                 // print the set and what is left out; run nothing
};

// Registers the subcommand on `app`; `run` is set to call it when parsed.
CLI::App* add_mm_selftests_command(CLI::App& app, RunOptions& o, MmSelftestsOptions& m);

// 0: the verdict holds; 1: a regression or a report on patched; 3: harness error.
int run_mm_selftests(const RunOptions& global, const MmSelftestsOptions& options);

}  // namespace mmguard
