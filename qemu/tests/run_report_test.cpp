#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "run_report.h"
#include "workspace.h"

namespace mmguard {
namespace {

TestResult leaf(const std::string& name, TestStatus st) {
    TestResult t;
    t.name = name;
    t.status = st;
    return t;
}

TestResult suite(const std::string& name, std::vector<TestResult> cases, TestStatus st = TestStatus::Pass) {
    TestResult t = leaf(name, st);
    t.subtests = std::move(cases);
    return t;
}

KernelReport report(const std::string& sig) {
    KernelReport r;
    r.kind = "WARNING";
    r.signature = sig;
    return r;
}

BootResult passing_boot() {
    BootResult b;
    b.outcome = BootOutcome::Completed;
    b.tests = {suite("s", {leaf("a", TestStatus::Pass), leaf("b", TestStatus::Skip)})};
    return b;
}

TEST(Judge, AllPassingIsExitZero) {
    EXPECT_EQ(judge(passing_boot(), {}).exit_code, kExitPass);
}

TEST(Judge, FailedOrCrashedTestIsExitOne) {
    BootResult b = passing_boot();
    b.tests[0].subtests[0].status = TestStatus::Fail;
    EXPECT_EQ(judge(b, {}).exit_code, kExitTestFailure);
    b = passing_boot();
    b.tests[0].subtests[0].status = TestStatus::NotRun;
    EXPECT_EQ(judge(b, {}).exit_code, kExitTestFailure);
}

TEST(Judge, KernelReportOutranksTestFailure) {
    BootResult b = passing_boot();
    b.tests[0].subtests[0].status = TestStatus::Fail;
    b.reports = {report("WARNING in f")};
    b.report_groups = deduplicate(b.reports);
    EXPECT_EQ(judge(b, {}).exit_code, kExitKernelReport);
}

TEST(Judge, HangPanicAndEarlyExitAreKernelTrouble) {
    for (auto o : {BootOutcome::Hang, BootOutcome::Panic, BootOutcome::EarlyExit, BootOutcome::Flood}) {
        BootResult b = passing_boot();
        b.outcome = o;
        EXPECT_EQ(judge(b, {}).exit_code, kExitKernelReport) << to_string(o);
    }
}

TEST(Judge, GuestStillBusyAtTheTimeLimitIsATestFailure) {
    BootResult b = passing_boot();
    b.outcome = BootOutcome::Timeout;
    EXPECT_EQ(judge(b, {}).exit_code, kExitTestFailure);
}

TEST(Judge, NoResultsAtAllIsAFailure) {
    BootResult b;
    EXPECT_EQ(judge(b, {}).exit_code, kExitTestFailure);
}

TEST(Judge, ExpectedReportMustBeThere) {
    Expectations e;
    e.expect_report = true;
    e.expect_signature = "kernel BUG in f";
    BootResult b = passing_boot();
    EXPECT_EQ(judge(b, e).exit_code, kExitTestFailure);
    b.reports = {report("kernel BUG in f: x")};
    b.report_groups = deduplicate(b.reports);
    EXPECT_EQ(judge(b, e).exit_code, kExitPass);
}

TEST(Judge, ExpectedSuiteMustHaveRun) {
    Expectations e;
    e.expect_suites = {"other"};
    EXPECT_EQ(judge(passing_boot(), e).exit_code, kExitTestFailure);
    e.expect_suites = {"s"};
    EXPECT_EQ(judge(passing_boot(), e).exit_code, kExitPass);
}

TEST(Reports, JsonAndJunitCarryTheResults) {
    auto dir = fs::temp_directory_path() / ("mmguard-report-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    BootResult b = passing_boot();
    b.tests[0].subtests[0].status = TestStatus::Fail;
    b.tests[0].subtests[0].diagnostics = {"Expected x == 1"};
    b.reports = {report("WARNING in f"), report("WARNING in f")};
    b.report_groups = deduplicate(b.reports);
    RunInfo info;
    info.label = "unit";
    Verdict v = judge(b, {});
    write_results_json(dir / "results.json", info, b, v);
    write_junit_xml(dir / "junit.xml", info, b);
    nlohmann::json j = nlohmann::json::parse(std::ifstream(dir / "results.json"));
    EXPECT_EQ(j["exit_code"], kExitKernelReport);
    EXPECT_EQ(j["suites"][0]["counts"]["fail"], 1);
    EXPECT_EQ(j["reports"][0]["count"], 2);
    std::ostringstream xml;
    xml << std::ifstream(dir / "junit.xml").rdbuf();
    EXPECT_NE(xml.str().find("<failure"), std::string::npos);
    EXPECT_NE(xml.str().find("Expected x == 1"), std::string::npos);
    EXPECT_NE(xml.str().find("WARNING in f (2x)"), std::string::npos);
    fs::remove_all(dir);
}

TEST(Counts, CountLeavesRecursively) {
    auto t = suite("top", {suite("s", {leaf("a", TestStatus::Pass), leaf("b", TestStatus::Crashed)}),
                           leaf("c", TestStatus::Skip)});
    auto c = count_tests(t);
    EXPECT_EQ(c.passed, 1);
    EXPECT_EQ(c.crashed, 1);
    EXPECT_EQ(c.skipped, 1);
    EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace mmguard
