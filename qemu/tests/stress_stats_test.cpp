#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "console_session.h"
#include "run_report.h"
#include "stress_console.h"
#include "stress_stats.h"

namespace mmguard {
namespace {

// What the guest prints during a session, as init.sh indents it under the
// selftests' KTAP document.
const char* kFinishedSession =
    "[    1.200000] Run /init as init process\n"
    "    # Subtest: trinity\n"
    "    TAP version 13\n"
    "    1..1\n"
    "    # trinity: 60s from seed 4242, 2 children, args: -g vm (uptime 2.50)\n"
    "    # churners: cma memory\n"
    "    # trinity: 30s of 60s, at least 10001 syscalls (uptime 32.60)\n"
    "    # churn: so far (rounds/effective): cma=50/50 memory=20/3\n"
    "    # trinity[4242]: [main] Bailing main loop because ctrl-c.\n"
    "    # trinity run 1 (seed 4242) ended with exit 139 before printing its totals\n"
    "    # trinity run 2 (seed 4243): 17000 syscalls\n"
    "    # churn: cma: 100 rounds, 98 effective\n"
    "    # churn: memory: 40 rounds, 7 effective\n"
    "    # vmstat delta: cma_alloc_success 98\n"
    "    # vmstat delta: pgmigrate_success 12345\n"
    "    # trinity: 17000 syscalls in 61s over 2 run(s), 1 ended early; seeds 4242..4243\n"
    "    ok 1 trinity ran syscalls\n"
    "ok 1 trinity\n"
    "mmguard: guest done\n";

StressStats feed_all(const std::string& console) { return testing::stress_of(console); }

TEST(StressStats, NoSessionLeavesNothing) {
    StressStats s = feed_all("[    0.1] Linux version 6.12.117\nKTAP version 1\n1..1\nok 1 a\n");
    EXPECT_FALSE(s.seen);
    EXPECT_EQ(s.syscalls, 0);
}

TEST(StressStats, FinishedSessionGivesTotalsSeedsAndChurners) {
    StressStats s = feed_all(kFinishedSession);
    ASSERT_TRUE(s.seen);
    EXPECT_TRUE(s.finished);
    EXPECT_EQ(s.planned_seconds, 60);
    EXPECT_EQ(s.syscalls, 17000);
    EXPECT_DOUBLE_EQ(s.seconds, 61);
    EXPECT_EQ(s.runs, 2);
    EXPECT_EQ(s.ended_early, 1);
    EXPECT_EQ(s.first_seed, 4242u);
    EXPECT_EQ(s.last_seed, 4243u);
    ASSERT_EQ(s.churners.size(), 2u);
    EXPECT_EQ(s.churners[0].name, "cma");
    EXPECT_EQ(s.churners[0].rounds, 100);
    EXPECT_EQ(s.churners[0].effective, 98);
    EXPECT_EQ(s.churners[1].name, "memory");
    EXPECT_EQ(s.churners[1].effective, 7);
    EXPECT_EQ(s.vmstat_delta.at("pgmigrate_success"), 12345);
    EXPECT_NEAR(s.syscalls_per_second(), 17000.0 / 61, 1e-9);
}

TEST(StressStats, SessionCutByPanicHasLowerBounds) {
    // The guest panics 45.5 s into the session, after one heartbeat.
    StressStats s = feed_all(
        "    # trinity: 600s from seed 7, 2 children, args: -g vm (uptime 10.00)\n"
        "    # trinity: 30s of 600s, at least 12000 syscalls (uptime 40.00)\n"
        "[   55.000000] ------------[ cut here ]------------\n"
        "[   55.500000] Kernel panic - not syncing: Fatal exception\n");
    ASSERT_TRUE(s.seen);
    EXPECT_FALSE(s.finished);
    EXPECT_EQ(s.syscalls, 12000);
    EXPECT_DOUBLE_EQ(s.seconds, 45.5);
    EXPECT_EQ(s.planned_seconds, 600);
    EXPECT_EQ(s.first_seed, 7u);
}

TEST(StressStats, KernelLinesBeforeTheSessionDoNotCount) {
    StressStats s = feed_all(
        "[  100.000000] something before\n"
        "    # trinity: 60s from seed 1, 2 children, args: -g vm (uptime 3.00)\n");
    ASSERT_TRUE(s.seen);
    EXPECT_DOUBLE_EQ(s.seconds, 0);
}

TEST(StressStats, ChurnerWithAnEmptyCountIsKept) {
    // Seen on a real console before churn.sh renamed its counters into place.
    StressStats s = feed_all(
        "    # trinity: 60s from seed 1, 2 children, args: -g vm (uptime 3.00)\n"
        "    # churn: thp_fork: 501 rounds,  effective\n");
    ASSERT_EQ(s.churners.size(), 1u);
    EXPECT_EQ(s.churners[0].name, "thp_fork");
    EXPECT_EQ(s.churners[0].rounds, 501);
    EXPECT_EQ(s.churners[0].effective, 0);
}

TEST(StressStats, PanicWithoutItsEndMarkerCountsOnceTheConsoleEnds) {
    // Seen: panic_on_warn during a session; QEMU exited before the
    // "---[ end Kernel panic" line, so the panic is known only at finish().
    ConsoleSession session("", 1u << 20);
    session.feed(
        "    # trinity: 120s from seed 1, 2 children, args: -g vm (uptime 1.30)\n"
        "[    1.855825] Kernel panic - not syncing: kernel: panic_on_warn set ...\n"
        "[    1.880212] Kernel Offset: disabled\n");
    session.finish(EndReason::KernelCrash);
    EXPECT_TRUE(session.panicked());
    StressStats s = session.stress();
    EXPECT_FALSE(s.finished);
    EXPECT_NEAR(s.seconds, 0.580212, 1e-6);
}

TEST(StressStats, ResultsJsonCarriesTheSession) {
    BootResult b;
    b.outcome = BootOutcome::Completed;
    b.stress = feed_all(kFinishedSession);
    RunInfo info;
    info.label = "stress";
    info.trinity_seed = 4242;
    info.trinity_seconds = 60;
    auto path = std::filesystem::temp_directory_path() / "mmguard-stress-stats-test.json";
    write_results_json(path, info, b, Verdict{});
    nlohmann::json j = nlohmann::json::parse(std::ifstream(path));
    std::filesystem::remove(path);
    EXPECT_EQ(j["trinity"]["seed"], 4242);
    const auto& s = j["trinity"]["session"];
    EXPECT_EQ(s["syscalls"], 17000);
    EXPECT_EQ(s["finished"], true);
    EXPECT_EQ(s["seeds"], nlohmann::json::array({4242, 4243}));
    EXPECT_EQ(s["churners"]["cma"]["effective"], 98);
    EXPECT_EQ(s["vmstat_delta"]["cma_alloc_success"], 98);
}

}  // namespace
}  // namespace mmguard
