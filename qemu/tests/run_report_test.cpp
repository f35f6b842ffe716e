#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "test_paths.h"
#include "atomic_file.h"
#include "process.h"
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

// A guest that timed out, a kernel report, and a suite with every kind of leaf.
BootResult troubled_boot() {
    BootResult b;
    b.outcome = BootOutcome::Timeout;
    b.tests = {suite("s", {leaf("a", TestStatus::Pass), leaf("b", TestStatus::Fail), leaf("c", TestStatus::Skip),
                           leaf("d", TestStatus::Crashed), leaf("e", TestStatus::NotRun), leaf("f", TestStatus::Error)},
                     TestStatus::Fail),
               suite("t", {leaf("a", TestStatus::Pass)}, TestStatus::Crashed)};
    b.reports = {report("WARNING in f")};
    b.report_groups = deduplicate(b.reports);
    return b;
}

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("mmguard-report-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
};

TEST(Junit, SuiteCountsAreWhatTheirCasesSay) {
    TempDir dir;
    RunInfo info;
    info.label = "unit";
    write_junit_xml(dir.path / "junit.xml", info, troubled_boot());
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_file((dir.path / "junit.xml").c_str()));
    int suites = 0;
    for (auto s : doc.child("testsuites").children("testsuite")) {
        ++suites;
        int tests = 0, failures = 0, errors = 0, skipped = 0;
        for (auto tc : s.children("testcase")) {
            ++tests;
            failures += !tc.child("failure").empty();
            errors += !tc.child("error").empty();
            skipped += !tc.child("skipped").empty();
        }
        std::string name = s.attribute("name").value();
        EXPECT_EQ(s.attribute("tests").as_int(-1), tests) << name;
        EXPECT_EQ(s.attribute("failures").as_int(-1), failures) << name;
        EXPECT_EQ(s.attribute("errors").as_int(-1), errors) << name;
        EXPECT_EQ(s.attribute("skipped").as_int(-1), skipped) << name;
    }
    EXPECT_EQ(suites, 3);
    auto kernel = doc.child("testsuites").find_child_by_attribute("testsuite", "name", "kernel-reports");
    EXPECT_EQ(kernel.attribute("failures").as_int(), 2);  // the report and the guest that did not complete
}

TEST(Junit, ValidatesAgainstTheCommittedSchema) {
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0) GTEST_SKIP() << "xmllint missing (libxml2-utils)";
    TempDir dir;
    RunInfo info;
    info.label = "unit";
    int n = 0;
    for (const BootResult& b : {passing_boot(), troubled_boot(), BootResult{}}) {
        auto xml = dir.path / fmt::format("junit-{}.xml", n++);
        write_junit_xml(xml, info, b);
        std::string cmd = fmt::format("xmllint --noout --schema '{}/junit.xsd' '{}' 2>'{}.err'", testing::schema_dir().string(),
                                      xml.string(), xml.string());
        std::ostringstream err;
        int rc = std::system(cmd.c_str());
        err << std::ifstream(xml.string() + ".err").rdbuf();
        EXPECT_EQ(rc, 0) << err.str();
    }
}

TEST(AtomicFile, ReplacesTheFileAndLeavesNoTemporary) {
    TempDir dir;
    auto f = dir.path / "results.json";
    write_file_atomically(f, "old\n");
    write_file_atomically(f, "new\n");
    std::ostringstream text;
    text << std::ifstream(f).rdbuf();
    EXPECT_EQ(text.str(), "new\n");
    int files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
    EXPECT_EQ(files, 1);
}

TEST(AtomicFile, AFailedWriteIsAHarnessErrorNamingThePath) {
    TempDir dir;
    auto missing = dir.path / "no-such-dir" / "results.json";
    RunInfo info;
    BootResult b = passing_boot();
    Verdict v = judge(b, {});
    for (auto write : std::vector<std::function<void()>>{
             [&] { write_results_json(missing, info, b, v); },
             [&] { write_junit_xml(missing, info, b); },
             [&] { write_reports_text(missing, b); },
         }) {
        try {
            write();
            ADD_FAILURE() << "no error for " << missing;
        } catch (const HarnessError& e) {
            EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
        }
    }
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
