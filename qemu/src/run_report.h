// The verdict of a run and its reports: results.json, junit.xml and the
// summary printed at the end.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "qemu_boot.h"

namespace mmguard {

// Exit codes of the tool (documented in README.md).
enum ExitCode {
    kExitPass = 0,
    kExitTestFailure = 1,    // a test failed, crashed or did not run
    kExitKernelReport = 2,   // BUG/WARNING/Oops/panic/hang... in the guest
    kExitHarnessError = 3,   // setup, patch, build or QEMU problem
    kExitInterrupted = 130,
};

struct TestCounts {
    int passed = 0, failed = 0, skipped = 0, crashed = 0, not_run = 0;
    int total() const { return passed + failed + skipped + crashed + not_run; }
    bool ok() const { return failed == 0 && crashed == 0 && not_run == 0; }
};

// Counts the leaf tests under `t` (a test with no subtests counts itself).
TestCounts count_tests(const TestResult& t);

// Expectations a run is judged against besides "everything passes".
struct Expectations {
    bool expect_report = false;             // a kernel report must appear (self-tests of the harness)
    std::string expect_signature;           // ...whose signature contains this text
    std::vector<std::string> expect_suites; // these top-level tests must have run
};

struct Verdict {
    int exit_code = kExitPass;
    std::vector<std::string> reasons;
};

Verdict judge(const BootResult& boot, const Expectations& expect);

struct RunInfo {
    std::string label;                 // "patched", "base", a mutation name
    std::string kernel_tree;           // head commit of build/src
    std::vector<std::string> patches;  // subjects applied
    double build_seconds = 0;
    int compiled = 0;
    unsigned trinity_seed = 0;         // 0: no trinity session
    int trinity_seconds = 0;
};

// The results.json document (Documentation/results-schema.json).
nlohmann::json results_json(const RunInfo& info, const BootResult& boot, const Verdict& verdict);
void write_results_json(const std::filesystem::path& path, const RunInfo& info, const BootResult& boot,
                        const Verdict& verdict);
// reports.txt: each unique kernel report, its count and its context lines.
void write_reports_text(const std::filesystem::path& path, const BootResult& boot);
void write_junit_xml(const std::filesystem::path& path, const RunInfo& info, const BootResult& boot);
void print_summary(const RunInfo& info, const BootResult& boot, const Verdict& verdict,
                   const std::filesystem::path& out_dir);

}  // namespace mmguard
