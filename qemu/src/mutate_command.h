// `mmguard mutate`: generated mutants of the guarded functions, each built
// and booted with the KUnit suites and selftests; out/mutate.{jsonl,md,json}.
// Registered from main.cpp with two calls, so main.cpp barely changes.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mmguard {

struct MutateOptions {
    std::string functions;        // "" : PROJECT/patches/guarded-functions
    std::vector<std::string> only;  // run only mutants of these functions
    std::vector<std::string> ops;   // ... and these operators
    std::vector<std::string> ids;   // ... and these mutant ids (e.g. the survivors of a run)
    double budget_minutes = 30;   // no new mutant starts after this
    unsigned long long seed = 1;
    std::size_t max = 0;          // at most this many mutants (0: budget only)
    bool list = false;            // print the mutants, build nothing
    bool report_only = false;     // rewrite mutate.md/.json from mutate.jsonl
    std::string accel = "auto";
    int cpus = 2;
    std::string memory = "2G";
    std::vector<std::string> append;
    std::vector<std::string> selftests;  // empty: all
    int selftest_timeout = 60;
    int boot_timeout = 420;
    int silence_timeout = 90;
    bool baseline_boot = true;    // boot the unmutated kernel first: it must pass
    // The selftests' own durations (init passes unknown NAME=VALUE kernel
    // parameters to init's environment): compaction_stress, the two
    // kpageflags race reproducers 5 s each instead of 15/20/30 s, which
    // takes a boot from about 115 s to about 45 s of wall time under TCG.
    bool full_selftests = false;
};

struct MutateCommand {
    CLI::App* cmd = nullptr;
    MutateOptions options;
};

std::unique_ptr<MutateCommand> add_mutate_command(CLI::App& app);

// Runs it with the tool's global options; returns the exit code (0 done,
// 3 harness error, 130 interrupted).
int run_mutate_command(const MutateCommand& m, const std::string& project, const std::string& work,
                       const std::string& out, int jobs);

}  // namespace mmguard
