// The proof matrix's rows and boots, from the project's own patches/ and
// from small made-up ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "test_paths.h"
#include "process.h"
#include "proof_judge.h"
#include "proof_plan.h"
#include "run_options.h"
#include "run_report.h"
#include "test_files.h"

namespace mmguard {
namespace {

namespace fs = std::filesystem;
using testing::put;

const fs::path kProjectPatches = testing::fixtures_dir() / "../../../patches";

const ProofRow& row_of(const std::vector<ProofRow>& rows, const std::string& topic, const std::string& kernel) {
    for (const auto& r : rows)
        if (r.topic == topic && r.kernel.name() == kernel) return r;
    throw std::runtime_error("no row " + topic + " / " + kernel);
}

TEST(ProofRows, TheProjectsReproducersAndMutationsGiveTwoRowsEach) {
    auto rows = read_proof_rows(kProjectPatches);
    std::size_t mutations = 0;
    for (const auto& e : fs::directory_iterator(kProjectPatches / "mutations")) mutations += e.path().extension() == ".patch";
    EXPECT_GE(mutations, 12u);
    EXPECT_EQ(rows.size() % 2, 0u);
    EXPECT_EQ(rows.size() - 2 * mutations, 14u);   // seven reproducers
    const ProofRow& offline = row_of(rows, "kpageflags_offline_race", "base");
    EXPECT_EQ(offline.expect, ProofExpect::Report);
    EXPECT_EQ(offline.words, (std::vector<std::string>{"--selftest", "kpageflags_offline_race", "--kunit-filter", "none",
                                                       "--cpus", "2", "--host-cpus", "1", "--append",
                                                       "KPF_OFFLINE_SECONDS=12"}));
    EXPECT_EQ(row_of(rows, "kpageflags_offline_race", "patched").words, offline.words);
    const ProofRow& contig = row_of(rows, "isolation-keeps-pages-counted", "patched + mutation");
    EXPECT_EQ(contig.expect, ProofExpect::SuiteFails);
    EXPECT_EQ(contig.suite, "mmguard_contig");
    EXPECT_EQ(contig.words, (std::vector<std::string>{"--append", "cma=256M", "--no-selftests", "--kunit-filter",
                                                      "mmguard_contig"}));
    const ProofRow& healthy = row_of(rows, "cpu-dead-keeps-pcp-pages", "patched");
    EXPECT_EQ(healthy.expected, "silent");
    EXPECT_EQ(healthy.words, std::vector<std::string>{"--no-selftests"});
    // Every row's options are ones `mmguard run` takes.
    for (const auto& r : rows) {
        RunOptions o;
        EXPECT_NO_THROW(parse_run_words(o, r.words, r.topic)) << r.topic;
    }
}

TEST(ProofBoots, EachKernelIsBuiltOnceAndRowsWithTheSameOptionsShareABoot) {
    auto rows = read_proof_rows(kProjectPatches);
    auto boots = plan_proof_boots(rows);
    EXPECT_LT(boots.size(), rows.size());
    std::set<std::size_t> judged;
    std::vector<std::string> kernel_order;
    for (const auto& b : boots) {
        std::string k = b.kernel.name() + ":" + b.kernel.mutation.string();
        if (kernel_order.empty() || kernel_order.back() != k) kernel_order.push_back(k);
        for (auto i : b.rows) {
            EXPECT_TRUE(judged.insert(i).second) << "row judged twice: " << i;
            EXPECT_EQ(rows[i].kernel, b.kernel);
            EXPECT_EQ(rows[i].words, b.words);
        }
    }
    EXPECT_EQ(judged.size(), rows.size());
    // No kernel comes back after another one was built.
    EXPECT_EQ(std::set<std::string>(kernel_order.begin(), kernel_order.end()).size(), kernel_order.size());
    EXPECT_EQ(boots.front().kernel.name(), "patched");
    EXPECT_EQ(boots.back().kernel.name(), "base");
    // The three THP mapcount checks' healthy rows are one boot.
    std::size_t fork = 0, split = 0;
    for (std::size_t n = 0; n < boots.size(); ++n)
        for (auto i : boots[n].rows) {
            if (rows[i].topic == "fork-dup-misses-last-page" && rows[i].kernel.name() == "patched") fork = n;
            if (rows[i].topic == "split-pmd-misses-last-pte" && rows[i].kernel.name() == "patched") split = n;
        }
    EXPECT_EQ(fork, split);
}

ProofBoot boot_of(bool base, const std::string& mutation) {
    ProofBoot b;
    b.kernel.base = base;
    b.kernel.mutation = mutation;
    return b;
}

TEST(ProofRunOrder, EveryOtherKernelsBootsComeAfterABootThatNeedsNoBuild) {
    // Planned: patched x3, mutation a x2, mutation b, base x2.
    std::vector<ProofBoot> boots = {boot_of(false, ""),  boot_of(false, ""),  boot_of(false, ""),
                                    boot_of(false, "a"), boot_of(false, "a"), boot_of(false, "b"),
                                    boot_of(true, ""),   boot_of(true, "")};
    std::vector<bool> all(boots.size(), true);
    EXPECT_EQ(proof_run_order(boots, all), (std::vector<std::size_t>{0, 3, 4, 1, 5, 2, 6, 7}));
    // More patched boots than other kernels: the rest run at the end.
    std::vector<ProofBoot> few = {boot_of(false, ""), boot_of(false, ""), boot_of(false, ""), boot_of(true, "")};
    EXPECT_EQ(proof_run_order(few, std::vector<bool>(4, true)), (std::vector<std::size_t>{0, 3, 1, 2}));
    // Only the chosen boots, and a shard without the patched kernel keeps its plan order.
    std::vector<bool> some = {false, false, false, true, false, true, true, false};
    EXPECT_EQ(proof_run_order(boots, some), (std::vector<std::size_t>{3, 5, 6}));
}

TEST(ProofRunOrder, TheProjectsMatrixRunsEveryBootOnceAndKeepsEachKernelTogether) {
    auto rows = read_proof_rows(kProjectPatches);
    auto boots = plan_proof_boots(rows);
    auto order = proof_run_order(boots, std::vector<bool>(boots.size(), true));
    EXPECT_EQ(std::set<std::size_t>(order.begin(), order.end()).size(), boots.size());
    EXPECT_EQ(order.size(), boots.size());
    std::vector<std::string> kernels;
    for (auto n : order) {
        if (boots[n].kernel.name() == "patched" && boots[n].kernel.mutation.empty()) continue;
        std::string k = boots[n].kernel.name() + ":" + boots[n].kernel.mutation.string();
        if (kernels.empty() || kernels.back() != k) kernels.push_back(k);
    }
    EXPECT_EQ(std::set<std::string>(kernels.begin(), kernels.end()).size(), kernels.size());
}

class ProofRowsFromFiles : public ::testing::Test {
protected:
    void SetUp() override { dir = testing::scratch_dir("proof-rows"); }
    void TearDown() override { fs::remove_all(dir); }
    std::string error_of() {
        try {
            read_proof_rows(dir);
        } catch (const HarnessError& e) {
            return e.what();
        }
        return "";
    }
    fs::path dir;
};

TEST_F(ProofRowsFromFiles, AnUnknownKindOrExpectationNamesTheLine) {
    put(dir / "reproducers", "# comment\n\nselftest a fail\nbench b fail\n");
    EXPECT_NE(error_of().find("reproducers:4: unknown kind 'bench'"), std::string::npos) << error_of();
    put(dir / "reproducers", "kunit a maybe\n");
    EXPECT_NE(error_of().find("reproducers:1: expectation 'maybe'"), std::string::npos) << error_of();
}

TEST_F(ProofRowsFromFiles, AMutationWithoutExpectationIsAnError) {
    put(dir / "reproducers", "");
    put(dir / "mutations/x.patch", "Subject: x\nMutation-Boot: cma=1G\n\ndiff --git a/x b/x\nMutation-Expect: in diff\n");
    EXPECT_NE(error_of().find("x.patch: no Mutation-Expect"), std::string::npos) << error_of();
}

TEST(HarnessRows, TheProjectsHarnessChecksAreRowsOnThePatchedKernel) {
    auto rows = read_harness_rows(kProjectPatches / "../qemu/harness-checks");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].topic, "harness-bug");
    EXPECT_EQ(rows[0].expect, ProofExpect::Report);
    EXPECT_EQ(rows[0].kernel.name(), "patched");
    EXPECT_EQ(rows[2].expect, ProofExpect::Hang);
    for (const auto& r : rows) {
        RunOptions o;
        EXPECT_NO_THROW(parse_run_words(o, r.words, r.topic)) << r.topic;
    }
}

TEST_F(ProofRowsFromFiles, AHarnessCheckNeedsItsOptions) {
    put(dir / "harness", "bug report: ^x\n");
    EXPECT_THROW(read_harness_rows(dir / "harness"), HarnessError);
    put(dir / "harness", "bug crash args: --no-selftests\n");
    EXPECT_THROW(read_harness_rows(dir / "harness"), HarnessError);
}

TEST(ProofJudge, AHangRowNeedsTheBootJudgedAHang) {
    ProofRow row;
    row.expect = ProofExpect::Hang;
    BootResult b;
    b.outcome = BootOutcome::Hang;
    EXPECT_TRUE(judge_proof_row(row, kExitKernelReport, b).ok);
    b.outcome = BootOutcome::Timeout;
    EXPECT_FALSE(judge_proof_row(row, kExitKernelReport, b).ok);
}

TEST(RunWords, UnknownOptionsAreErrorsNamingTheRow) {
    RunOptions o;
    parse_run_words(o, {"--selftest", "a", "--cpus", "3", "--append", "x=1", "--append", "y"}, "row");
    EXPECT_EQ(o.selftests, std::vector<std::string>{"a"});
    EXPECT_EQ(o.cpus, 3);
    EXPECT_EQ(o.append, (std::vector<std::string>{"x=1", "y"}));
    try {
        parse_run_words(o, {"--cpu", "3"}, "row r");
        FAIL() << "expected HarnessError";
    } catch (const HarnessError& e) {
        EXPECT_NE(std::string(e.what()).find("row r"), std::string::npos) << e.what();
    }
}

BootResult boot_with_report(const std::string& title, const std::string& signature) {
    BootResult b;
    ReportGroup g;
    g.first.title = title;
    g.first.signature = signature;
    g.first.alt_titles = {"kernel BUG in kpagecount_read"};
    g.first.first_line = 40;
    g.first.timestamp = 1.5;
    g.signatures = {signature};
    g.count = 1;
    b.report_groups.push_back(g);
    return b;
}

TEST(ProofJudge, AReportRowNeedsExitTwoAndAMatchingTitleAltTitleOrSignature) {
    ProofRow row;
    row.expect = ProofExpect::Report;
    row.pattern = "^kernel BUG in kpagecount_read$";
    BootResult b = boot_with_report("kernel BUG in stable_page_flags", "kernel BUG in stable_page_flags: VM_BUG_ON");
    EXPECT_TRUE(judge_proof_row(row, kExitKernelReport, b).ok);   // by its alternative title
    EXPECT_EQ(judge_proof_row(row, kExitKernelReport, b).seen, "kernel BUG in stable_page_flags: VM_BUG_ON @ 1.5s");
    EXPECT_FALSE(judge_proof_row(row, kExitTestFailure, b).ok);
    row.pattern = "^kernel BUG in stable_page_flags: VM_";
    EXPECT_TRUE(judge_proof_row(row, kExitKernelReport, b).ok);   // by its signature
    row.pattern = "^WARNING";
    EXPECT_FALSE(judge_proof_row(row, kExitKernelReport, b).ok);
    EXPECT_FALSE(judge_proof_row(row, kExitKernelReport, BootResult{}).ok);
}

TEST(ProofJudge, ASuiteRowNeedsThatSuiteFailedAndOneOfItsLinesToMatch) {
    BootResult b;
    TestResult suite;
    suite.name = "mmguard_contig";
    suite.status = TestStatus::Fail;
    TestResult c;
    c.name = "case";
    c.status = TestStatus::Fail;
    c.diagnostics = {"# NR_FREE_PAGES is 10 but the lists hold 8 pages"};
    suite.subtests.push_back(c);
    b.tests.push_back(suite);
    ProofRow row;
    row.expect = ProofExpect::SuiteFails;
    row.suite = "mmguard_contig";
    row.pattern = "NR_FREE_PAGES is [0-9]+ but";
    EXPECT_TRUE(judge_proof_row(row, kExitTestFailure, b).ok);
    EXPECT_EQ(judge_proof_row(row, kExitTestFailure, b).seen, "suite fail, report -");
    EXPECT_FALSE(judge_proof_row(row, kExitKernelReport, b).ok);
    row.pattern = "drift";
    EXPECT_FALSE(judge_proof_row(row, kExitTestFailure, b).ok);
    row.pattern.clear();
    EXPECT_TRUE(judge_proof_row(row, kExitTestFailure, b).ok);
    row.suite = "mmguard_other";
    EXPECT_FALSE(judge_proof_row(row, kExitTestFailure, b).ok);
    EXPECT_EQ(judge_proof_row(row, kExitTestFailure, b).seen, "suite missing, report -");
}

TEST(ProofJudge, APassRowNeedsExitZero) {
    ProofRow row;
    EXPECT_TRUE(judge_proof_row(row, kExitPass, BootResult{}).ok);
    EXPECT_EQ(judge_proof_row(row, kExitPass, BootResult{}).seen, "exit 0, report -");
    EXPECT_FALSE(judge_proof_row(row, kExitTestFailure, BootResult{}).ok);
}

TEST(ProofBoots, ABootOfReportRowsStopsAfterTheirReportsAnyOtherRunsToTheEnd) {
    auto rows = read_proof_rows(kProjectPatches);
    for (auto& r : read_harness_rows(kProjectPatches / "../qemu/harness-checks")) rows.push_back(std::move(r));
    std::size_t stopping = 0;
    for (const auto& b : plan_proof_boots(rows)) {
        auto patterns = report_patterns_to_stop_after(b, rows);
        bool all_reports = std::all_of(b.rows.begin(), b.rows.end(),
                                       [&](std::size_t i) { return rows[i].expect == ProofExpect::Report; });
        EXPECT_EQ(patterns.empty(), !all_reports) << rows[b.rows.front()].topic;
        if (patterns.empty()) continue;
        ++stopping;
        EXPECT_EQ(patterns.size(), b.rows.size());
        for (std::size_t k = 0; k < b.rows.size(); ++k) EXPECT_EQ(patterns[k], rows[b.rows[k]].pattern);
    }
    // The mutations that expect a report, the base reproducers that do, and
    // the harness's report rows; never a silent row, a suite row or a hang.
    EXPECT_GE(stopping, 11u + 2u + 2u);
    const ProofRow& silent = row_of(rows, "cpu-dead-keeps-pcp-pages", "patched");
    ProofBoot alone{silent.kernel, silent.words, {0}};
    std::vector<ProofRow> one{silent};
    EXPECT_TRUE(report_patterns_to_stop_after(alone, one).empty());
    one.push_back(row_of(rows, "cpu-dead-keeps-pcp-pages", "patched + mutation"));
    ProofBoot mixed{silent.kernel, silent.words, {0, 1}};
    EXPECT_TRUE(report_patterns_to_stop_after(mixed, one).empty());   // the silent row needs the whole boot
}

}  // namespace
}  // namespace mmguard
