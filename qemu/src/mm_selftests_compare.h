// `mmguard mm-selftests`: the A/B judgement of the kernel's own
// tools/testing/selftests/mm programs on the base and the patched kernel.
// A pure function of the two result sets, so it is unit-tested without boots.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ktap_parser.h"

namespace mmguard {

// One side's outcome of one test program, reduced for the comparison.
enum class MmOutcome { Pass, Fail, Skip, Missing };

const char* to_string(MmOutcome o);
// Pass -> Pass, Skip -> Skip, Fail/Crashed/NotRun/Error -> Fail.
MmOutcome outcome_of(TestStatus status);

struct MmSide {
    std::map<std::string, MmOutcome> tests;   // program name -> outcome
    std::map<std::string, std::string> why;   // program name -> reason of a fail/skip (optional)
    int kernel_reports = 0;                   // unique kernel reports in this boot
    bool completed = true;                    // the guest printed "guest done"
};

struct MmRow {
    std::string name;
    MmOutcome base = MmOutcome::Missing;
    MmOutcome patched = MmOutcome::Missing;
    // "regression" (passes on base, not on patched), "both fail",
    // "fixed" (fails on base, passes on patched), "skip changed", "" (same).
    std::string difference;
};

struct MmComparison {
    std::vector<MmRow> rows;               // every test of either side, by name
    std::vector<std::string> regressions;  // names that pass on base and not on patched
    std::vector<std::string> both_fail;    // names that fail on both sides
    bool ok = true;                        // no regression, no report on patched, patched completed
    std::vector<std::string> reasons;      // why not ok
    int count(bool patched, MmOutcome o) const;
};

// The verdict: patched passes every test base passes, nothing fails on
// patched that passes on base (a test base passes and patched lacks or
// skips counts as a regression too), and the patched boot has no kernel
// report and completed.
MmComparison compare_mm_selftests(const MmSide& base, const MmSide& patched);

// The outcomes of the top-level KTAP tests named in `programs` (the mm
// selftests' own runner lines); a program with no result line is Missing.
MmSide mm_side_from_tests(const std::vector<TestResult>& tests, const std::vector<std::string>& programs,
                          int kernel_reports, bool completed);

}  // namespace mmguard
