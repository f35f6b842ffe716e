#include "ktap_parser.h"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mmguard {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Feeds console text (one line per '\n', like console.log) through the same
// sanitising and timestamp splitting the tool uses.
class Console {
public:
    Console() {
        parser.on_top_level_result([this](const TestResult& r) { reported.push_back(r.name); });
    }

    void feed(std::string_view text) {
        if (!text.empty() && text.front() == '\n') text.remove_prefix(1);  // raw-string layout
        while (!text.empty()) {
            auto eol = text.find('\n');
            std::string_view raw = text.substr(0, eol);
            parser.feed(split_console_line(sanitize_console_text(raw), ++line_number));
            if (eol == std::string_view::npos) break;
            text.remove_prefix(eol + 1);
        }
    }

    const std::vector<TestResult>& finish(EndReason reason = EndReason::EndOfOutput) {
        parser.finish(reason);
        return parser.results();
    }

    KtapParser parser;
    std::vector<std::string> reported;  // names passed to the callback, in order
    std::size_t line_number = 0;
};

std::vector<std::string> names(const std::vector<TestResult>& tests) {
    std::vector<std::string> out;
    for (const auto& t : tests) out.push_back(t.name);
    return out;
}

std::vector<TestStatus> statuses(const std::vector<TestResult>& tests) {
    std::vector<TestStatus> out;
    for (const auto& t : tests) out.push_back(t.status);
    return out;
}

constexpr std::string_view kKunitExample = R"(
KTAP version 1
1..2
    KTAP version 1
    # Subtest: example
    # module: kunit_example_test
    1..3
    # example_simple_test: initializing
    ok 1 example_simple_test
    ok 2 example_skip_test # SKIP this test should be skipped
        KTAP version 1
        # Subtest: example_params_test
        ok 1 example value 3
        ok 2 example value 2 # SKIP unsupported
    # example_params_test: pass:1 fail:0 skip:1 total:2
    ok 3 example_params_test
# example: pass:2 fail:0 skip:1 total:3
# Totals: pass:3 fail:0 skip:1 total:4
ok 1 example
    KTAP version 1
    # Subtest: other
    1..1
    # other_test: EXPECTATION FAILED at lib/foo.c:12
    Expected x == 1, but
        x == 2 (0x2)
    not ok 1 other_test
not ok 2 other
)";

using S = TestStatus;

TEST(KtapParser, ToStringNamesEveryStatus) {
    EXPECT_STREQ(to_string(S::Pass), "pass");
    EXPECT_STREQ(to_string(S::Fail), "fail");
    EXPECT_STREQ(to_string(S::Skip), "skip");
    EXPECT_STREQ(to_string(S::Crashed), "crashed");
    EXPECT_STREQ(to_string(S::NotRun), "not run");
    EXPECT_STREQ(to_string(S::Error), "error");
}

TEST(KtapParser, KunitExampleGivesSuitesWithCasesAndParams) {
    Console c;
    c.feed(kKunitExample);
    // Both suites are complete before finish(): the callback already fired.
    EXPECT_THAT(c.reported, ElementsAre("example", "other"));
    const auto& r = c.finish();

    ASSERT_THAT(names(r), ElementsAre("example", "other"));
    const TestResult& example = r[0];
    EXPECT_EQ(example.status, S::Pass);
    EXPECT_EQ(example.number, 1);
    EXPECT_EQ(example.plan, 3);
    EXPECT_EQ(example.first_line, 3u);
    EXPECT_EQ(example.last_line, 18u);
    EXPECT_THAT(example.diagnostics, Contains("# module: kunit_example_test"));
    EXPECT_THAT(example.diagnostics, Contains("# Totals: pass:3 fail:0 skip:1 total:4"));
    ASSERT_THAT(names(example.subtests),
                ElementsAre("example_simple_test", "example_skip_test", "example_params_test"));
    EXPECT_THAT(statuses(example.subtests), ElementsAre(S::Pass, S::Skip, S::Pass));

    const TestResult& simple = example.subtests[0];
    EXPECT_THAT(simple.diagnostics, ElementsAre("# example_simple_test: initializing"));
    EXPECT_EQ(simple.first_line, 7u);
    EXPECT_EQ(simple.last_line, 8u);

    const TestResult& skipped = example.subtests[1];
    EXPECT_EQ(skipped.directive, "SKIP");
    EXPECT_EQ(skipped.reason, "this test should be skipped");

    const TestResult& params = example.subtests[2];
    EXPECT_EQ(params.number, 3);
    EXPECT_FALSE(params.plan.has_value());
    ASSERT_THAT(names(params.subtests), ElementsAre("example value 3", "example value 2"));
    EXPECT_THAT(statuses(params.subtests), ElementsAre(S::Pass, S::Skip));
    EXPECT_EQ(params.subtests[1].reason, "unsupported");

    const TestResult& other = r[1];
    EXPECT_EQ(other.status, S::Fail);
    EXPECT_EQ(other.number, 2);
    ASSERT_EQ(other.subtests.size(), 1u);
    EXPECT_EQ(other.subtests[0].status, S::Fail);
}

TEST(KtapParser, ParameterizedTestWithoutPlanEndsAtItsNamedResultLine) {
    Console c;
    c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: suite
    1..2
        KTAP version 1
        # Subtest: case_params
        ok 1 param one
        not ok 2 param two
        ok 3 param three
    not ok 1 case_params
    ok 2 case_plain
not ok 1 suite
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("suite"));
    ASSERT_THAT(names(r[0].subtests), ElementsAre("case_params", "case_plain"));
    const TestResult& params = r[0].subtests[0];
    EXPECT_EQ(params.status, S::Fail);
    EXPECT_THAT(statuses(params.subtests), ElementsAre(S::Pass, S::Fail, S::Pass));
    EXPECT_EQ(r[0].subtests[1].status, S::Pass);
}

TEST(KtapParser, UnindentedNestingIsDerivedFromPlansAndSubtestNames) {
    // No indentation at all: the plan ends the suite, the "# Subtest:" name
    // ends the parameterised test that has no plan.
    Console c;
    c.feed(R"(
KTAP version 1
1..2
# Subtest: suite
KTAP version 1
1..2
ok 1 case_a
# Subtest: case_b
KTAP version 1
ok 1 param one
ok 2 param two
ok 2 case_b
ok 1 suite
# Subtest: second
KTAP version 1
1..1
not ok 1 only
not ok 2 second
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("suite", "second"));
    EXPECT_EQ(r[0].status, S::Pass);
    ASSERT_THAT(names(r[0].subtests), ElementsAre("case_a", "case_b"));
    EXPECT_THAT(names(r[0].subtests[1].subtests), ElementsAre("param one", "param two"));
    EXPECT_EQ(r[1].status, S::Fail);
    EXPECT_THAT(names(r[1].subtests), ElementsAre("only"));
}

TEST(KtapParser, SkipDirectiveIsCaseInsensitiveAndWinsOverNotOk) {
    Console c;
    c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: skippy
    1..3
    ok 1 upper # SKIP no hardware
    ok 2 lower # skip lower case
    not ok 3 mixed #Skip
ok 1 skippy # SKIP all skipped
)");
    const auto& r = c.finish();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, S::Skip);
    EXPECT_EQ(r[0].reason, "all skipped");
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Skip, S::Skip, S::Skip));
    EXPECT_THAT(names(r[0].subtests), ElementsAre("upper", "lower", "mixed"));
    EXPECT_EQ(r[0].subtests[0].reason, "no hardware");
    EXPECT_EQ(r[0].subtests[1].directive, "SKIP");
    EXPECT_EQ(r[0].subtests[2].directive, "SKIP");
}

TEST(KtapParser, DirectivesAndCommentsOnResultLines) {
    Console c;
    c.feed(R"(
TAP version 13
1..7
not ok 1 known_bug # TODO fix later
not ok 2 expected # XFAIL not supported here
not ok 3 slow # TIMEOUT 45 seconds
not ok 4 broken # ERROR setup failed
not ok 5 selftests: mm: foo # exit=1
ok 6 case #1
ok 7 - dashed name
)");
    const auto& r = c.finish();
    ASSERT_EQ(r.size(), 7u);
    // TODO/XFAIL on not ok: an expected failure, reported as Pass + directive.
    EXPECT_EQ(r[0].status, S::Pass);
    EXPECT_EQ(r[0].directive, "TODO");
    EXPECT_EQ(r[0].reason, "fix later");
    EXPECT_EQ(r[1].status, S::Pass);
    EXPECT_EQ(r[1].directive, "XFAIL");
    EXPECT_EQ(r[2].status, S::Fail);
    EXPECT_EQ(r[2].directive, "TIMEOUT");
    EXPECT_EQ(r[2].reason, "45 seconds");
    EXPECT_EQ(r[3].status, S::Fail);
    EXPECT_EQ(r[3].directive, "ERROR");
    EXPECT_EQ(r[4].status, S::Fail);
    EXPECT_EQ(r[4].name, "selftests: mm: foo");
    EXPECT_EQ(r[4].directive, "");
    EXPECT_EQ(r[4].reason, "exit=1");
    EXPECT_EQ(r[5].name, "case #1");
    EXPECT_EQ(r[6].name, "dashed name");
    EXPECT_EQ(r[6].number, 7);
}

TEST(KtapParser, NotOkCaseKeepsItsAssertionDiagnostics) {
    Console c;
    c.feed(kKunitExample);
    const auto& r = c.finish();
    ASSERT_EQ(r.size(), 2u);
    ASSERT_EQ(r[1].subtests.size(), 1u);
    const TestResult& failed = r[1].subtests[0];
    EXPECT_EQ(failed.name, "other_test");
    EXPECT_EQ(failed.status, S::Fail);
    // Indentation is kept relative to the suite, so the report reads as printed.
    EXPECT_THAT(failed.diagnostics,
                ElementsAre("# other_test: EXPECTATION FAILED at lib/foo.c:12",
                            "Expected x == 1, but", "    x == 2 (0x2)"));
    EXPECT_EQ(failed.first_line, 22u);
    EXPECT_EQ(failed.last_line, 25u);
}

TEST(KtapParser, SuiteSayingOkWithFailedCaseIsFail) {
    Console c;
    c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: liar
    1..2
    ok 1 good
    not ok 2 bad
ok 1 liar
)");
    const auto& r = c.finish();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, S::Fail);
    EXPECT_THAT(r[0].reason, HasSubstr("bad"));
}

TEST(KtapParser, MissingPlansAreAccepted) {
    Console c;
    c.feed(R"(
KTAP version 1
    KTAP version 1
    # Subtest: noplan
    ok 1 a
    not ok 2 b
not ok 1 noplan
    KTAP version 1
    # Subtest: also_noplan
    ok 1 c
ok 2 also_noplan
)");
    const auto& r = c.finish(EndReason::EndOfOutput);
    // The top-level document has no plan: nothing can be missing from it.
    ASSERT_THAT(names(r), ElementsAre("noplan", "also_noplan"));
    EXPECT_FALSE(r[0].plan.has_value());
    EXPECT_EQ(r[0].status, S::Fail);
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Fail));
    EXPECT_EQ(r[1].status, S::Pass);
}

TEST(KtapParser, SuiteWithoutPlanCrashesAsAWhole) {
    Console c;
    c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: noplan
    ok 1 a
BUG: kernel NULL pointer dereference, address: 0000000000000000
)");
    const auto& r = c.finish(EndReason::KernelCrash);
    ASSERT_THAT(names(r), ElementsAre("noplan"));
    // No plan: the running case cannot be identified, so the suite is blamed.
    EXPECT_EQ(r[0].status, S::Crashed);
    EXPECT_THAT(r[0].reason, HasSubstr("kernel crashed"));
    EXPECT_THAT(names(r[0].subtests), ElementsAre("a"));
}

TEST(KtapParser, KernelWarningInsideSuiteDoesNotChangeStatus) {
    Console c;
    c.feed(R"(
[    1.000000] KTAP version 1
[    1.000001] 1..2
[    1.000002]     KTAP version 1
[    1.000003]     # Subtest: mm_suite
[    1.000004]     1..3
[    1.000005]     ok 1 first
[    1.100000] ------------[ cut here ]------------
[    1.100001] WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:4321 __alloc_pages+0x1a2/0x2b0
[    1.100002] Modules linked in:
[    1.100003] CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
[    1.100004] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996)
[    1.100005] RIP: 0010:__alloc_pages+0x1a2/0x2b0
[    1.100006] Code: 48 89 df e8 00 00 00 00 0f 0b eb 8e
[    1.100007] RSP: 0000:ffffc90000013d58 EFLAGS: 00010246
[    1.100008] Call Trace:
[    1.100009]  <TASK>
[    1.100010]  ? __warn+0x8c/0x180
[    1.100011]  kunit_try_run_case+0x5b/0x100
[    1.100012]  </TASK>
[    1.100013] ---[ end trace 0000000000000000 ]---
[    1.200000]     ok 2 second
[    1.200001] Freeing unused kernel memory: 2048K
[    1.200002]     ok 3 third
[    1.200003] ok 1 mm_suite
[    1.300000] random: crng init done
[    1.300001]     KTAP version 1
[    1.300002]     # Subtest: quiet
[    1.300003]     1..1
[    1.300004]     ok 1 only
[    1.300005] ok 2 quiet
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("mm_suite", "quiet"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Pass, S::Pass));
    ASSERT_THAT(names(r[0].subtests), ElementsAre("first", "second", "third"));
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Pass, S::Pass));
    // The splat is kept with the case that was running when it was printed.
    const TestResult& second = r[0].subtests[1];
    EXPECT_THAT(second.diagnostics,
                Contains("WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:4321 "
                         "__alloc_pages+0x1a2/0x2b0"));
    EXPECT_EQ(second.first_line, 7u);
    ASSERT_TRUE(second.start_time.has_value());
    EXPECT_DOUBLE_EQ(*second.start_time, 1.1);
    ASSERT_TRUE(second.end_time.has_value());
    EXPECT_DOUBLE_EQ(*second.end_time, 1.2);
    EXPECT_DOUBLE_EQ(*r[0].start_time, 1.000002);
    EXPECT_DOUBLE_EQ(*r[0].end_time, 1.200003);
    EXPECT_THAT(r[0].subtests[2].diagnostics, ElementsAre("Freeing unused kernel memory: 2048K"));
}

TEST(KtapParser, CrashMidSuiteMarksRunningCaseCrashedAndTheRestNotRun) {
    Console c;
    c.feed(R"(
KTAP version 1
1..3
    KTAP version 1
    # Subtest: crashy
    1..3
    ok 1 fine
BUG: unable to handle page fault for address: ffff888000000000
Oops: 0002 [#1] PREEMPT SMP NOPTI
)");
    EXPECT_THAT(c.reported, IsEmpty());
    const auto& r = c.finish(EndReason::KernelCrash);
    EXPECT_THAT(c.reported, ElementsAre("crashy", "suite 2", "suite 3"));

    ASSERT_THAT(names(r), ElementsAre("crashy", "suite 2", "suite 3"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Fail, S::NotRun, S::NotRun));
    EXPECT_THAT(r[0].reason, HasSubstr("kernel crashed"));
    EXPECT_EQ(r[1].number, 2);
    EXPECT_EQ(r[2].number, 3);

    ASSERT_THAT(names(r[0].subtests), ElementsAre("fine", "test 2", "test 3"));
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Crashed, S::NotRun));
    const TestResult& crashed = r[0].subtests[1];
    EXPECT_EQ(crashed.number, 2);
    EXPECT_THAT(crashed.reason, HasSubstr("kernel crashed"));
    EXPECT_THAT(crashed.diagnostics, Contains("Oops: 0002 [#1] PREEMPT SMP NOPTI"));
    EXPECT_EQ(crashed.first_line, 7u);
}

TEST(KtapParser, CrashInsideParameterizedTestFailsEveryEnclosingSuite) {
    Console c;
    c.feed(R"(
KTAP version 1
1..2
    KTAP version 1
    # Subtest: suite
    1..3
    ok 1 plain
        KTAP version 1
        # Subtest: params
        ok 1 value 1
Kernel panic - not syncing: Fatal exception
)");
    const auto& r = c.finish(EndReason::KernelCrash);
    ASSERT_THAT(names(r), ElementsAre("suite", "suite 2"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Fail, S::NotRun));
    EXPECT_THAT(r[0].reason, HasSubstr("params"));
    ASSERT_THAT(names(r[0].subtests), ElementsAre("plain", "params", "test 3"));
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Crashed, S::NotRun));
    // The parameterised test has no plan: the test itself is the one blamed.
    const TestResult& params = r[0].subtests[1];
    EXPECT_EQ(params.number, 2);
    EXPECT_THAT(names(params.subtests), ElementsAre("value 1"));
    EXPECT_THAT(params.diagnostics, Contains("Kernel panic - not syncing: Fatal exception"));
}

TEST(KtapParser, EndReasonIsNamedInTheCrashReason) {
    for (auto [reason, text] : {std::pair{EndReason::Timeout, "timed out"},
                                std::pair{EndReason::EndOfOutput, "console ended"}}) {
        Console c;
        c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: slow
    1..2
    ok 1 a
)");
        const auto& r = c.finish(reason);
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].status, S::Fail);
        ASSERT_EQ(r[0].subtests.size(), 2u);
        EXPECT_EQ(r[0].subtests[1].status, S::Crashed);
        EXPECT_THAT(r[0].subtests[1].reason, HasSubstr(text));
    }
}

TEST(KtapParser, CrashBeforeSuiteCasesUsesTheSubtestName) {
    // The suite named itself but printed no plan: it is the running test.
    Console c;
    c.feed(R"(
KTAP version 1
1..2
    KTAP version 1
    # Subtest: early
    # module: early_test
)");
    const auto& r = c.finish(EndReason::KernelCrash);
    ASSERT_THAT(names(r), ElementsAre("early", "suite 2"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Crashed, S::NotRun));
    EXPECT_THAT(r[0].diagnostics, Contains("# module: early_test"));
}

TEST(KtapParser, KunitDocumentThenSelftestDocument) {
    Console c;
    c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: kunit_suite
    1..1
    ok 1 case
ok 1 kunit_suite
Run /init as init process
ok 9 not a test, the document is closed
KTAP version 1
1..2
# Subtest: mm_hugetlb
    TAP version 13
    1..2
    ok 1 map
    not ok 2 unmap
    # Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0
not ok 1 mm_hugetlb # exit=1
    # Subtest: mm_cow
    TAP version 13
    1..1
    ok 1 cow # SKIP no THP
ok 2 mm_cow # SKIP
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("kunit_suite", "mm_hugetlb", "mm_cow"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Pass, S::Fail, S::Skip));
    EXPECT_EQ(r[1].number, 1);
    EXPECT_EQ(r[1].reason, "exit=1");
    EXPECT_EQ(r[1].plan, 2);
    EXPECT_THAT(statuses(r[1].subtests), ElementsAre(S::Pass, S::Fail));
    EXPECT_THAT(r[1].diagnostics, Contains("# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:0"));
    EXPECT_THAT(names(r[2].subtests), ElementsAre("cow"));
    EXPECT_THAT(c.reported, ElementsAre("kunit_suite", "mm_hugetlb", "mm_cow"));
}

TEST(KtapParser, GuestInitSelftestWrapperFormat) {
    // As printed by qemu/guest/init.sh: header and program output indented by
    // four spaces, the program's result at the top level.
    Console c;
    c.feed(R"(
KTAP version 1
1..3
    # Subtest: mremap_test
    TAP version 13
    1..1
    ok 1 mremap
    # Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0
ok 1 mremap_test
    # Subtest: hangs
not ok 2 hangs # TIMEOUT after 45s
    # Subtest: fails
    some stderr output
not ok 3 fails # exit code 1
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("mremap_test", "hangs", "fails"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Pass, S::Fail, S::Fail));
    EXPECT_THAT(names(r[0].subtests), ElementsAre("mremap"));
    EXPECT_EQ(r[1].directive, "TIMEOUT");
    EXPECT_EQ(r[1].reason, "after 45s");
    EXPECT_TRUE(r[1].subtests.empty());
    EXPECT_EQ(r[2].reason, "exit code 1");
    EXPECT_THAT(r[2].diagnostics, ElementsAre("some stderr output"));
}

TEST(KtapParser, NewTopLevelDocumentClosesAnIncompleteOne) {
    Console c;
    c.feed(R"(
KTAP version 1
1..2
    KTAP version 1
    # Subtest: cut_short
    1..2
    ok 1 a
KTAP version 1
1..1
    KTAP version 1
    # Subtest: next_doc
    1..1
    ok 1 b
ok 1 next_doc
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("cut_short", "suite 2", "next_doc"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Fail, S::NotRun, S::Pass));
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Error));
}

TEST(KtapParser, TruncatedLastLineEndsAsConsoleEnded) {
    Console c;
    c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: trunc
    1..3
    ok 1 a
    not o)");
    const auto& r = c.finish(EndReason::EndOfOutput);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, S::Fail);
    ASSERT_THAT(names(r[0].subtests), ElementsAre("a", "test 2", "test 3"));
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Crashed, S::NotRun));
    EXPECT_THAT(r[0].subtests[1].reason, HasSubstr("console ended"));
    EXPECT_THAT(r[0].subtests[1].diagnostics, ElementsAre("not o"));
}

TEST(KtapParser, SuiteResultBeforePlanCompleteMarksMissingCases) {
    // A wrapped selftest program died after its first test; the wrapper
    // still printed the program's result.
    Console c;
    c.feed(R"(
KTAP version 1
1..1
# Subtest: prog
    TAP version 13
    1..3
    ok 1 one
not ok 1 prog # exit=139
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("prog"));
    EXPECT_EQ(r[0].status, S::Fail);
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Error, S::NotRun));
}

TEST(KtapParser, GarbageInputGivesNoResultsAndNoCrash) {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string junk;
    for (int i = 0; i < 200000; ++i) junk.push_back(static_cast<char>(byte(rng)));
    Console c;
    c.feed(junk);
    const auto& r = c.finish(EndReason::KernelCrash);
    EXPECT_THAT(r, IsEmpty());
    EXPECT_THAT(c.reported, IsEmpty());
}

TEST(KtapParser, GarbageInsideSuiteDoesNotChangeStatuses) {
    std::mt19937 rng(99);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string junk;
    for (int i = 0; i < 20000; ++i) {
        char b = static_cast<char>(byte(rng));
        junk.push_back(b == '\n' ? 'x' : b);
        if (i % 80 == 79) junk.push_back('\n');
    }
    Console c;
    c.feed("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: s\n    1..2\n    ok 1 a\n");
    c.feed(junk);
    c.feed("\n    ok 2 b\nok 1 s\n");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("s"));
    EXPECT_EQ(r[0].status, S::Pass);
    EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Pass));
}

TEST(KtapParser, DiagnosticFloodIsBounded) {
    Console c;
    c.feed("KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: noisy\n    1..1\n");
    std::string flood;
    for (int i = 0; i < 300000; ++i) flood += "rcu: INFO: rcu_sched self-detected stall on CPU\n";
    c.feed(flood);
    c.feed("    ok 1 case\nok 1 noisy\n");
    const auto& r = c.finish();
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].subtests.size(), 1u);
    const auto& diags = r[0].subtests[0].diagnostics;
    EXPECT_LE(diags.size(), 201u);
    EXPECT_EQ(diags.back(), "... 299800 lines dropped");
}

TEST(KtapParser, ResultFloodIsBoundedByTheTestLimit) {
    Console c;
    std::string flood = "TAP version 13\n";
    for (int i = 1; i <= 150000; ++i) flood += "ok " + std::to_string(i) + " t\n";
    c.feed(flood);
    const auto& r = c.finish();
    ASSERT_EQ(r.size(), 100000u);
    EXPECT_THAT(r.back().diagnostics, Contains(HasSubstr("limit of 100000 tests")));
    EXPECT_EQ(c.reported.size(), 100000u);
}

TEST(KtapParser, HugePlanAfterCrashIsBounded) {
    Console c;
    c.feed("KTAP version 1\n1..2000000000\n");
    const auto& r = c.finish(EndReason::KernelCrash);
    EXPECT_EQ(r.size(), 100000u);
    EXPECT_EQ(r.front().status, S::Crashed);
    EXPECT_EQ(r.back().status, S::NotRun);
}

TEST(KtapParser, DeepNestingFloodIsBounded) {
    Console c;
    std::string flood = "KTAP version 1\n1..1\n";
    for (int depth = 1; depth < 1000; ++depth) {
        flood += std::string(static_cast<std::size_t>(depth), ' ') + "KTAP version 1\n";
        flood += std::string(static_cast<std::size_t>(depth), ' ') + "1..1\n";
    }
    c.feed(flood);
    const auto& r = c.finish(EndReason::KernelCrash);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].status, S::Fail);
    std::size_t depth = 0;
    for (const TestResult* t = &r[0]; !t->subtests.empty(); t = &t->subtests.front()) ++depth;
    EXPECT_LT(depth, 40u);
}

TEST(KtapParser, BareKselftestTap13Document) {
    Console c;
    c.feed(R"(
TAP version 13
1..4
# selftests: mm: mremap_test
ok 1 mremap expand
not ok 2 mremap shrink
# mremap shrink: mismatch at 0x1000
ok 3 thp collapse # SKIP THP disabled
ok 4 # SKIP
# Totals: pass:1 fail:1 xfail:0 xpass:0 skip:2 error:0
)");
    const auto& r = c.finish();
    // A bare document's results are plain tests; they are returned as they are.
    ASSERT_THAT(names(r), ElementsAre("mremap expand", "mremap shrink", "thp collapse", "test 4"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Pass, S::Fail, S::Skip, S::Skip));
    EXPECT_THAT(r[0].diagnostics, ElementsAre("# selftests: mm: mremap_test"));
    EXPECT_THAT(r[2].diagnostics, ElementsAre("# mremap shrink: mismatch at 0x1000"));
    EXPECT_EQ(r[2].reason, "THP disabled");
    EXPECT_TRUE(r[0].subtests.empty());
}

TEST(KtapParser, BareTap14DocumentCrashingNamesPlaceholdersAsTests) {
    Console c;
    c.feed("TAP version 14\n1..3\nok 1 a\n");
    const auto& r = c.finish(EndReason::KernelCrash);
    ASSERT_THAT(names(r), ElementsAre("a", "test 2", "test 3"));
    EXPECT_THAT(statuses(r), ElementsAre(S::Pass, S::Crashed, S::NotRun));
}

TEST(KtapParser, SubtestHeaderBeforeOrAfterVersionLine) {
    constexpr std::string_view kAfter = R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: example
    1..2
    ok 1 a
    not ok 2 b
not ok 1 example
)";
    constexpr std::string_view kBefore = R"(
KTAP version 1
1..1
    # Subtest: example
    KTAP version 1
    1..2
    ok 1 a
    not ok 2 b
not ok 1 example
)";
    constexpr std::string_view kNoVersion = R"(
TAP version 14
1..1
    # Subtest: example
    1..2
    ok 1 - a
    not ok 2 - b
not ok 1 - example
)";
    for (std::string_view text : {kAfter, kBefore, kNoVersion}) {
        Console c;
        c.feed(text);
        const auto& r = c.finish();
        ASSERT_THAT(names(r), ElementsAre("example")) << text;
        EXPECT_EQ(r[0].status, S::Fail);
        EXPECT_EQ(r[0].plan, 2);
        EXPECT_THAT(names(r[0].subtests), ElementsAre("a", "b"));
        EXPECT_THAT(statuses(r[0].subtests), ElementsAre(S::Pass, S::Fail));
    }
}

TEST(KtapParser, IndentedResultOfParentClosesUnfinishedNestedDocument) {
    // The parameterised test never printed its result; the suite's own result
    // line (by indentation two levels up) closes it as an Error, and the
    // suite's second case, never printed, is an Error too.
    Console c;
    c.feed(R"(
KTAP version 1
1..1
    KTAP version 1
    # Subtest: suite
    1..2
        KTAP version 1
        # Subtest: params
        ok 1 p1
ok 1 suite
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("suite"));
    ASSERT_THAT(names(r[0].subtests), ElementsAre("params", "test 2"));
    EXPECT_EQ(r[0].subtests[0].status, S::Error);
    EXPECT_EQ(r[0].status, S::Fail);
}

TEST(KtapParser, PrintkCallerIdIsIgnored) {
    Console c;
    c.feed(R"(
[    0.500000] [    T1] KTAP version 1
[    0.500001] [    T1] 1..1
[    0.500002] [    T1]     KTAP version 1
[    0.500003] [    T1]     # Subtest: caller
[    0.500004] [    T1]     1..1
[    0.500005] [   T42]     ok 1 a
[    0.500006] [    T1] ok 1 caller
)");
    const auto& r = c.finish();
    ASSERT_THAT(names(r), ElementsAre("caller"));
    EXPECT_EQ(r[0].status, S::Pass);
}

TEST(KtapParser, FinishIsIdempotent) {
    Console c;
    c.feed(kKunitExample);
    c.finish(EndReason::KernelCrash);
    const auto& r = c.finish(EndReason::KernelCrash);
    EXPECT_EQ(r.size(), 2u);
    EXPECT_EQ(c.reported.size(), 2u);
}

}  // namespace
}  // namespace mmguard
