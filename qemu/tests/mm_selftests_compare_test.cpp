#include "mm_selftests_compare.h"

#include <gtest/gtest.h>

namespace mmguard {
namespace {

MmSide side(std::map<std::string, MmOutcome> t, int reports = 0, bool completed = true) {
    MmSide s;
    s.tests = std::move(t);
    s.kernel_reports = reports;
    s.completed = completed;
    return s;
}

TestResult result(const std::string& name, TestStatus status, const std::string& directive = "",
                  const std::string& reason = "") {
    TestResult t;
    t.name = name;
    t.status = status;
    t.directive = directive;
    t.reason = reason;
    return t;
}

const MmRow& row(const MmComparison& c, const std::string& name) {
    for (const auto& r : c.rows)
        if (r.name == name) return r;
    throw std::runtime_error("no row " + name);
}

TEST(MmSelftestsCompare, SameResultsAreOkAndListEveryTest) {
    auto b = side({{"cow", MmOutcome::Pass}, {"mremap_test", MmOutcome::Skip}});
    auto c = compare_mm_selftests(b, b);
    EXPECT_TRUE(c.ok);
    ASSERT_EQ(c.rows.size(), 2u);
    EXPECT_EQ(c.rows[0].name, "cow");   // sorted by name
    EXPECT_EQ(row(c, "cow").difference, "");
    EXPECT_EQ(row(c, "mremap_test").difference, "");
    EXPECT_EQ(c.count(true, MmOutcome::Pass), 1);
    EXPECT_EQ(c.count(false, MmOutcome::Skip), 1);
    EXPECT_TRUE(c.reasons.empty());
}

TEST(MmSelftestsCompare, PassOnBaseFailOnPatchedIsARegression) {
    auto c = compare_mm_selftests(side({{"cow", MmOutcome::Pass}, {"khugepaged", MmOutcome::Pass}}),
                                  side({{"cow", MmOutcome::Pass}, {"khugepaged", MmOutcome::Fail}}));
    EXPECT_FALSE(c.ok);
    ASSERT_EQ(c.regressions, std::vector<std::string>{"khugepaged"});
    EXPECT_EQ(row(c, "khugepaged").difference, "regression");
    ASSERT_EQ(c.reasons.size(), 1u);
    EXPECT_EQ(c.reasons[0], "khugepaged: passes on base, fail on patched");
}

TEST(MmSelftestsCompare, PassOnBaseSkippedOrMissingOnPatchedIsARegression) {
    auto c = compare_mm_selftests(side({{"a", MmOutcome::Pass}, {"b", MmOutcome::Pass}}),
                                  side({{"a", MmOutcome::Skip}}));
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.regressions, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(row(c, "b").patched, MmOutcome::Missing);
    EXPECT_EQ(c.reasons[1], "b: passes on base, missing on patched");
}

TEST(MmSelftestsCompare, FailOnBothIsListedButNotARegression) {
    auto c = compare_mm_selftests(side({{"migration", MmOutcome::Fail}}), side({{"migration", MmOutcome::Fail}}));
    EXPECT_TRUE(c.ok);
    EXPECT_EQ(c.both_fail, std::vector<std::string>{"migration"});
    EXPECT_EQ(row(c, "migration").difference, "both fail");
}

TEST(MmSelftestsCompare, FixedAndSkipChangesAreDifferencesNotFailures) {
    auto c = compare_mm_selftests(side({{"x", MmOutcome::Fail}, {"y", MmOutcome::Skip}}),
                                  side({{"x", MmOutcome::Pass}, {"y", MmOutcome::Fail}}));
    EXPECT_TRUE(c.ok);
    EXPECT_EQ(row(c, "x").difference, "fixed");
    EXPECT_EQ(row(c, "y").difference, "skip -> fail");
}

TEST(MmSelftestsCompare, AReportOrAnIncompleteBootOnPatchedFailsTheVerdict) {
    auto same = std::map<std::string, MmOutcome>{{"cow", MmOutcome::Pass}};
    auto c = compare_mm_selftests(side(same), side(same, 1));
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.reasons, std::vector<std::string>{"the patched kernel reported trouble (1 unique report)"});
    auto d = compare_mm_selftests(side(same), side(same, 0, false));
    EXPECT_FALSE(d.ok);
    EXPECT_EQ(d.reasons, std::vector<std::string>{"the patched guest did not complete"});
    // A report on base alone is base's business.
    EXPECT_TRUE(compare_mm_selftests(side(same, 3), side(same)).ok);
}

TEST(MmSelftestsCompare, SideFromKtapMapsStatusesAndReasons) {
    TestResult ok = result("cow", TestStatus::Pass);
    TestResult skip = result("soft-dirty", TestStatus::Skip, "SKIP");
    TestResult to = result("khugepaged", TestStatus::Fail, "TIMEOUT", "after 300s");
    TestResult crashed = result("migration", TestStatus::Crashed);
    TestResult fail = result("mremap_test", TestStatus::Fail, "", "exit code 1");
    fail.subtests.push_back(result("move 2MB", TestStatus::Pass));
    fail.subtests.push_back(result("move 1GB", TestStatus::Fail));
    TestResult kunit = result("mmguard_freepages", TestStatus::Fail);   // not one of ours
    auto s = mm_side_from_tests({kunit, ok, skip, to, crashed, fail},
                                {"cow", "soft-dirty", "khugepaged", "migration", "mremap_test", "never_ran"}, 2, false);
    EXPECT_EQ(s.tests.size(), 6u);
    EXPECT_EQ(s.tests.at("cow"), MmOutcome::Pass);
    EXPECT_EQ(s.tests.at("soft-dirty"), MmOutcome::Skip);
    EXPECT_EQ(s.tests.at("khugepaged"), MmOutcome::Fail);
    EXPECT_EQ(s.why.at("khugepaged"), "TIMEOUT after 300s");
    EXPECT_EQ(s.tests.at("migration"), MmOutcome::Fail);
    EXPECT_EQ(s.why.at("mremap_test"), "exit code 1; first failing: move 1GB");
    EXPECT_EQ(s.tests.at("never_ran"), MmOutcome::Missing);
    EXPECT_FALSE(s.tests.count("mmguard_freepages"));
    EXPECT_EQ(s.kernel_reports, 2);
    EXPECT_FALSE(s.completed);
    EXPECT_FALSE(s.why.count("cow"));
}

}  // namespace
}  // namespace mmguard
