// Streaming KTAP v1 / TAP 13-14 parser for the guest console.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "console_line.h"

namespace mmguard {

enum class TestStatus {
    Pass,
    Fail,
    Skip,
    Crashed,   // the kernel died or the console ended while this test ran
    NotRun,    // planned, but the run ended before it started
    Error,     // malformed or incomplete output for this test
};

const char* to_string(TestStatus status);

struct TestResult {
    std::string name;
    int number = 0;                      // KTAP test number, 0 if none
    TestStatus status = TestStatus::Pass;
    std::string directive;               // "SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR" or ""
    std::string reason;                  // text after the directive / crash reason
    std::optional<int> plan;             // "1..N" of this test's subtests
    std::vector<std::string> diagnostics;  // "# ..." lines and unparsed lines inside it (bounded)
    std::size_t first_line = 0;          // console line where it began (0 = unknown)
    std::size_t last_line = 0;           // console line of its result line
    std::optional<double> start_time;    // printk timestamps, if the lines had them
    std::optional<double> end_time;
    std::vector<TestResult> subtests;
};

// Why the console ended before the output was complete.
enum class EndReason { EndOfOutput, KernelCrash, Timeout };

class KtapParser {
public:
    // Called with each finished top-level test (a KUnit suite, a selftest
    // program) as soon as its result line is read; lets the caller show
    // progress while the guest still runs.
    using ResultCallback = std::function<void(const TestResult&)>;

    KtapParser();
    ~KtapParser();
    KtapParser(const KtapParser&) = delete;
    KtapParser& operator=(const KtapParser&) = delete;

    void on_top_level_result(ResultCallback callback);

    // Feed one console line (timestamp already split off). Lines that are
    // not KTAP (kernel messages) are ignored and never change a status.
    void feed(const ConsoleLine& line);

    // No more lines. Tests still open become Crashed (the innermost one) or
    // NotRun (planned, never started); the suites holding them become Fail.
    void finish(EndReason reason);

    // Top-level tests from every KTAP document seen so far, in order. KUnit
    // suites are top-level tests with their cases as subtests.
    const std::vector<TestResult>& results() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mmguard
