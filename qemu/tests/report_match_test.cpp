// Matching kernel reports by pattern, and waiting for a set of them.
#include "report_match.h"

#include <gtest/gtest.h>

#include "process.h"

namespace mmguard {
namespace {

KernelReport report(const std::string& title, const std::string& signature,
                    std::vector<std::string> alt_titles = {}) {
    KernelReport r;
    r.title = title;
    r.signature = signature;
    r.alt_titles = std::move(alt_titles);
    return r;
}

const KernelReport kWarn = report("WARNING in page_alloc_cpu_dead",
                                  "WARNING in page_alloc_cpu_dead: dead CPU N keeps N pages",
                                  {"WARNING in cpuhp_invoke_callback"});
const KernelReport kBug = report("kernel BUG in stable_page_flags", "kernel BUG in stable_page_flags: VM_BUG_ON_PAGE");

TEST(ReportMatches, TitleSignatureOrAlternativeTitle) {
    EXPECT_TRUE(report_matches(kWarn, "^WARNING in page_alloc_cpu_dead$"));
    EXPECT_TRUE(report_matches(kWarn, "dead CPU N keeps"));
    EXPECT_TRUE(report_matches(kWarn, "^WARNING in cpuhp_invoke_callback$"));
    EXPECT_FALSE(report_matches(kWarn, "^kernel BUG"));
    EXPECT_TRUE(pattern_matches("nr_isolated_anon is -3", "is -[0-9]+"));
    EXPECT_FALSE(pattern_matches("nr_isolated_anon is 3", "is -[0-9]+"));
}

TEST(ReportWaiter, SatisfiedOnlyOnceEveryPatternMatchedSomeReport) {
    ReportWaiter w({"^WARNING in page_alloc_cpu_dead", "^kernel BUG in (stable_page_flags|kpagecount_read)"});
    EXPECT_FALSE(w.satisfied());
    w.see(kWarn);
    EXPECT_FALSE(w.satisfied());
    w.see(kWarn);   // the same pattern twice is not the other one
    EXPECT_FALSE(w.satisfied());
    w.see(kBug);
    EXPECT_TRUE(w.satisfied());
}

TEST(ReportWaiter, AnUnrelatedReportDoesNotEndTheWait) {
    ReportWaiter w({"^kernel BUG in stable_page_flags"});
    w.see(kWarn);
    EXPECT_FALSE(w.satisfied());
}

TEST(ReportWaiter, NoPatternsIsNeverSatisfied) {
    ReportWaiter w({});
    w.see(kWarn);
    w.see(kBug);
    EXPECT_FALSE(w.satisfied());
}

TEST(ReportWaiter, ABadPatternFailsBeforeAnyBoot) {
    EXPECT_THROW(ReportWaiter({"(unclosed"}), HarnessError);
}

}  // namespace
}  // namespace mmguard
