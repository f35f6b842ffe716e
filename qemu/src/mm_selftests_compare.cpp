#include "mm_selftests_compare.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace mmguard {

const char* to_string(MmOutcome o) {
    switch (o) {
    case MmOutcome::Pass: return "pass";
    case MmOutcome::Fail: return "fail";
    case MmOutcome::Skip: return "skip";
    case MmOutcome::Missing: return "missing";
    }
    return "?";
}

MmOutcome outcome_of(TestStatus status) {
    switch (status) {
    case TestStatus::Pass: return MmOutcome::Pass;
    case TestStatus::Skip: return MmOutcome::Skip;
    default: return MmOutcome::Fail;
    }
}

int MmComparison::count(bool patched, MmOutcome o) const {
    return static_cast<int>(
        std::count_if(rows.begin(), rows.end(), [&](const MmRow& r) { return (patched ? r.patched : r.base) == o; }));
}

MmComparison compare_mm_selftests(const MmSide& base, const MmSide& patched) {
    MmComparison c;
    std::set<std::string> names;
    for (const auto& [n, _] : base.tests) names.insert(n);
    for (const auto& [n, _] : patched.tests) names.insert(n);
    for (const auto& n : names) {
        MmRow r;
        r.name = n;
        if (auto it = base.tests.find(n); it != base.tests.end()) r.base = it->second;
        if (auto it = patched.tests.find(n); it != patched.tests.end()) r.patched = it->second;
        if (r.base == MmOutcome::Pass && r.patched != MmOutcome::Pass) {
            r.difference = "regression";
            c.regressions.push_back(n);
        } else if (r.base == MmOutcome::Fail && r.patched == MmOutcome::Fail) {
            r.difference = "both fail";
            c.both_fail.push_back(n);
        } else if (r.base != MmOutcome::Pass && r.patched == MmOutcome::Pass) {
            r.difference = "fixed";
        } else if (r.base != r.patched) {
            r.difference = fmt::format("{} -> {}", to_string(r.base), to_string(r.patched));
        }
        c.rows.push_back(std::move(r));
    }
    for (const auto& n : c.regressions) {
        const MmRow& r = *std::find_if(c.rows.begin(), c.rows.end(), [&](const MmRow& x) { return x.name == n; });
        c.reasons.push_back(fmt::format("{}: passes on base, {} on patched", n, to_string(r.patched)));
    }
    if (patched.kernel_reports > 0)
        c.reasons.push_back(fmt::format("the patched kernel reported trouble ({} unique report{})",
                                        patched.kernel_reports, patched.kernel_reports == 1 ? "" : "s"));
    if (!patched.completed) c.reasons.push_back("the patched guest did not complete");
    c.ok = c.reasons.empty();
    return c;
}

MmSide mm_side_from_tests(const std::vector<TestResult>& tests, const std::vector<std::string>& programs,
                          int kernel_reports, bool completed) {
    MmSide s;
    s.kernel_reports = kernel_reports;
    s.completed = completed;
    for (const auto& p : programs) s.tests[p] = MmOutcome::Missing;
    for (const auto& t : tests) {
        auto it = s.tests.find(t.name);
        if (it == s.tests.end()) continue;
        it->second = outcome_of(t.status);
        std::string why = t.directive.empty() ? t.reason : (t.reason.empty() ? t.directive : t.directive + " " + t.reason);
        if (t.status != TestStatus::Pass) {
            // The first failing subtest says more than the program's exit code.
            for (const auto& sub : t.subtests)
                if (sub.status == TestStatus::Fail || sub.status == TestStatus::Crashed) {
                    why += (why.empty() ? "" : "; ") + std::string("first failing: ") + sub.name;
                    break;
                }
            s.why[t.name] = why.empty() ? to_string(t.status) : why;
        }
    }
    return s;
}

}  // namespace mmguard
