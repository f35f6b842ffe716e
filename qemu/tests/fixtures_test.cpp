// The console logs under fixtures/ were captured from real boots of this
// project's kernels (see fixtures/README.md); each must be judged the same
// way every time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_paths.h"
#include "console_session.h"
#include "run_report.h"

namespace mmguard {
namespace {

struct Parsed {
    std::vector<TestResult> tests;
    std::vector<KernelReport> reports;
    bool done = false;
    bool panicked = false;
    std::string release;
};

std::string fixture(const std::string& name) {
    std::ifstream f((testing::fixtures_dir() / name).string(), std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    if (s.str().empty()) ADD_FAILURE() << "fixture " << name << " missing or empty";
    return s.str();
}

Parsed parse(const std::string& console) {
    ConsoleSession session("", 1 << 30);
    session.feed(console);
    session.finish(session.panicked() ? EndReason::KernelCrash : EndReason::EndOfOutput);
    return {session.results(), session.reports(), session.done_marker_seen(), session.panicked(),
            session.kernel_release()};
}

const TestResult* find(const Parsed& p, const std::string& name) {
    for (const auto& t : p.tests)
        if (t.name == name) return &t;
    return nullptr;
}

TEST(RealConsole, PassingRunHasEverySuiteAndNoReport) {
    Parsed p = parse(fixture("boot-pass.log"));
    EXPECT_TRUE(p.done);
    EXPECT_EQ(p.release, "6.12.117");
    EXPECT_TRUE(p.reports.empty());
    const TestResult* freepages = find(p, "mmguard_freepages");
    ASSERT_NE(freepages, nullptr);
    EXPECT_EQ(freepages->status, TestStatus::Pass);
    auto c = count_tests(*freepages);
    EXPECT_EQ(c.passed, 7);  // 3 cases + 4 orders of the parameterised one
    EXPECT_TRUE(c.ok());
    const TestResult* thp = find(p, "thp_kpageflags");
    ASSERT_NE(thp, nullptr);
    EXPECT_EQ(thp->status, TestStatus::Pass);
    EXPECT_EQ(count_tests(*thp).passed, 11);
    const TestResult* harness = find(p, "mmguard_harness");
    ASSERT_NE(harness, nullptr);
    EXPECT_EQ(harness->status, TestStatus::Skip);
}

TEST(RealConsole, InjectedBugIsOneReportAndFailsOnlyItsSuite) {
    Parsed p = parse(fixture("boot-inject-bug.log"));
    ASSERT_EQ(p.reports.size(), 1u);
    EXPECT_EQ(p.reports[0].signature, "kernel BUG in mmguard_harness_injected_bug");
    EXPECT_EQ(p.reports[0].file, "mm/mmguard/mmguard_harness_kunit.c");
    EXPECT_FALSE(p.panicked);
    EXPECT_TRUE(p.done);  // KUnit survives a crashed case; the boot goes on
    ASSERT_NE(find(p, "mmguard_harness"), nullptr);
    EXPECT_EQ(find(p, "mmguard_harness")->status, TestStatus::Fail);
    ASSERT_NE(find(p, "mmguard_freepages"), nullptr);
    EXPECT_EQ(find(p, "mmguard_freepages")->status, TestStatus::Pass);
}

TEST(RealConsole, InjectedWarningKeepsItsMessageInTheSignature) {
    Parsed p = parse(fixture("boot-inject-warn.log"));
    ASSERT_EQ(p.reports.size(), 1u);
    EXPECT_EQ(p.reports[0].signature,
              "WARNING in mmguard_harness_injected_warning: mmguard harness: injected warning");
    EXPECT_TRUE(p.done);
}

TEST(RealConsole, PanicMidSuiteCrashesTheRunningTestAndLeavesTheRestNotRun) {
    Parsed p = parse(fixture("boot-panic-midsuite.log"));
    EXPECT_TRUE(p.panicked);
    EXPECT_FALSE(p.done);
    // The "Fatal exception" panic is the BUG's consequence: one fatal report.
    ASSERT_EQ(p.reports.size(), 1u);
    EXPECT_EQ(p.reports[0].signature, "kernel BUG in mmguard_harness_injected_bug");
    EXPECT_EQ(p.reports[0].title, "kernel BUG in mmguard_harness_injected_bug");
    EXPECT_TRUE(p.reports[0].fatal);
    ASSERT_EQ(p.tests.size(), 2u);
    EXPECT_EQ(p.tests[0].name, "mmguard_harness");
    EXPECT_EQ(p.tests[0].status, TestStatus::Fail);
    ASSERT_EQ(p.tests[0].subtests.size(), 1u);
    EXPECT_EQ(p.tests[0].subtests[0].status, TestStatus::Crashed);
    EXPECT_EQ(p.tests[1].status, TestStatus::NotRun);
}

TEST(RealConsole, HungGuestNeverSaysDone) {
    Parsed p = parse(fixture("boot-hang.log"));
    EXPECT_FALSE(p.done);
    EXPECT_FALSE(p.panicked);
    EXPECT_TRUE(p.reports.empty());
}

TEST(RealConsole, FailingAuditNamesTheDrift) {
    Parsed p = parse(fixture("kunit-mmguard-fail.log"));
    const TestResult* freepages = find(p, "mmguard_freepages");
    ASSERT_NE(freepages, nullptr);
    EXPECT_EQ(freepages->status, TestStatus::Fail);
    EXPECT_EQ(count_tests(*freepages).failed, 7);
    std::string diag;
    for (const auto& d : freepages->subtests[0].diagnostics) diag += d + "\n";
    EXPECT_THAT(diag, ::testing::HasSubstr("NR_FREE_PAGES is 506422 but the non-isolated free lists hold 506454 pages"));
}

TEST(RealConsole, BootWithoutInitramfsEndsInItsOwnPanic) {
    Parsed p = parse(fixture("kunit-mmguard-pass.log"));
    ASSERT_NE(find(p, "mmguard_freepages"), nullptr);
    EXPECT_EQ(find(p, "mmguard_freepages")->status, TestStatus::Pass);
    ASSERT_EQ(p.reports.size(), 1u);
    EXPECT_EQ(p.reports[0].signature, "panic: VFS: Unable to mount root fs on \"\" or unknown-block(N,N)");
}

TEST(RealConsole, TruncatedConsoleFailsWhatWasRunning) {
    std::string full = fixture("boot-pass.log");
    auto cut = full.find("ok 2 mmguard_alloc_free_every_order_keeps_counters");
    ASSERT_NE(cut, std::string::npos);
    Parsed p = parse(full.substr(0, cut + 3));  // cut in the middle of the line: "ok "
    const TestResult* freepages = find(p, "mmguard_freepages");
    ASSERT_NE(freepages, nullptr);
    EXPECT_EQ(freepages->status, TestStatus::Fail);
    auto c = count_tests(*freepages);
    EXPECT_EQ(c.passed, 1);
    EXPECT_GE(c.crashed + c.not_run + c.failed, 1);
    EXPECT_FALSE(p.done);
}

TEST(RealConsole, KpageflagsRaceOnBaseIsOneSignatureInStablePageFlags) {
    Parsed p = parse(fixture("base-kpageflags-race.log"));
    ASSERT_EQ(p.reports.size(), 3u);
    auto groups = deduplicate(p.reports);
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].count, 3u);
    EXPECT_EQ(groups[0].first.signature,
              "kernel BUG in stable_page_flags: VM_BUG_ON_PAGE(page->compound_head & N)");
    EXPECT_EQ(groups[0].first.file, "include/linux/page-flags.h");
    ASSERT_NE(find(p, "kpageflags_thp_race"), nullptr);
    EXPECT_EQ(find(p, "kpageflags_thp_race")->status, TestStatus::Fail);
}

TEST(RealConsole, OfflineDiagnosticPageDumpIsNotAReport) {
    // Memory offline refused by a reserved page, under the churners of a
    // stress session: the kernel dumps the page as a diagnostic.
    Parsed p = parse(fixture("stress-offline-dump.log"));
    EXPECT_TRUE(p.reports.empty());
}

TEST(RealConsole, JudgingAFixtureGivesTheDocumentedExitCodes) {
    auto judge_fixture = [](const std::string& name) {
        ConsoleSession s("", 1 << 30);
        s.feed(fixture(name));
        bool done = s.done_marker_seen();
        s.finish(EndReason::EndOfOutput);
        BootResult b;
        b.outcome = s.panicked() ? BootOutcome::Panic : done ? BootOutcome::Completed : BootOutcome::Hang;
        b.tests = s.results();
        b.reports = s.reports();
        b.report_groups = s.report_groups();
        return judge(b, {}).exit_code;
    };
    EXPECT_EQ(judge_fixture("boot-pass.log"), kExitPass);
    EXPECT_EQ(judge_fixture("boot-inject-bug.log"), kExitKernelReport);
    EXPECT_EQ(judge_fixture("boot-panic-midsuite.log"), kExitKernelReport);
    EXPECT_EQ(judge_fixture("boot-hang.log"), kExitKernelReport);
}

}  // namespace
}  // namespace mmguard
