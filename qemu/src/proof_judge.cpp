#include "proof_judge.h"

#include <fmt/format.h>

#include "report_match.h"
#include "run_report.h"

namespace mmguard {
namespace {

const TestResult* find_suite(const BootResult& boot, const std::string& name) {
    for (const auto& t : boot.tests)
        if (t.name == name) return &t;
    return nullptr;
}

bool says(const TestResult& t, const std::string& pattern) {
    for (const auto& d : t.diagnostics)
        if (pattern_matches(d, pattern)) return true;
    for (const auto& s : t.subtests)
        if (says(s, pattern)) return true;
    return false;
}

std::string suite_status(const BootResult& boot, const std::string& name) {
    const TestResult* t = find_suite(boot, name);
    return t ? to_string(t->status) : "missing";
}

}  // namespace

std::string first_report(const BootResult& boot) {
    const KernelReport* first = nullptr;
    for (const auto& g : boot.report_groups)
        if (!first || g.first.first_line < first->first_line) first = &g.first;
    if (!first) return "-";
    return fmt::format("{} @ {}s", first->signature, first->timestamp ? fmt::format("{}", *first->timestamp) : "?");
}

bool has_report_matching(const BootResult& boot, const std::string& pattern) {
    for (const auto& g : boot.report_groups) {
        if (report_matches(g.first, pattern)) return true;
        // Later reports under the same title may differ in signature.
        for (const auto& s : g.signatures)
            if (pattern_matches(s, pattern)) return true;
    }
    return false;
}

RowVerdict judge_proof_row(const ProofRow& row, int exit_code, const BootResult& boot) {
    RowVerdict v;
    std::string report = first_report(boot);
    switch (row.expect) {
    case ProofExpect::Pass:
        v.ok = exit_code == kExitPass;
        v.seen = fmt::format("exit {}, report {}", exit_code, report);
        break;
    case ProofExpect::Report:
        v.ok = exit_code == kExitKernelReport && has_report_matching(boot, row.pattern);
        v.seen = report;
        break;
    case ProofExpect::Hang:
        v.ok = exit_code == kExitKernelReport && boot.outcome == BootOutcome::Hang;
        v.seen = fmt::format("exit {}, {}", exit_code, to_string(boot.outcome));
        break;
    case ProofExpect::SuiteFails: {
        const TestResult* suite = find_suite(boot, row.suite);
        v.ok = exit_code == kExitTestFailure && suite && suite->status == TestStatus::Fail &&
               (row.pattern.empty() || says(*suite, row.pattern));
        v.seen = fmt::format("suite {}, report {}", suite_status(boot, row.suite), report);
        break;
    }
    }
    return v;
}

}  // namespace mmguard
