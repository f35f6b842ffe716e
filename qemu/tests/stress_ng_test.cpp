#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "console_session.h"
#include "process.h"
#include "initramfs.h"
#include "run_report.h"
#include "stress_console.h"
#include "stress_stats.h"
#include "test_paths.h"

namespace mmguard {
namespace {

// The stress-ng lines of a real session (make stress, --trinity-seconds 90
// --stress-ng 45, 2026-12-05; the project's config has no CPUSETS, so
// stress-ng 0.15 finds no NUMA node), with trinity's lines shortened and one
// failure line added (not seen in a real guest yet).
const char* kSessionWithStressNg =
    "    # trinity: 90s from seed 2432922667, 2 children, args: -g vm (uptime 2.00)\n"
    "    # stress-ng: 45s: --vm 2 --vm-bytes 8% --vm-addr 1 --page-in --memhotplug 1 --numa 1\n"
    "    # stress-ng: numa: no NUMA nodes found, skipping test\n"
    "    # trinity run 1 (seed 2432922667): 29486 syscalls\n"
    "    # stress-ng: stressor       bogo ops real time  usr time  sys time   bogo ops/s     bogo ops/s\n"
    "    # stress-ng:                           (secs)    (secs)    (secs)   (real time) (usr+sys time)\n"
    "    # stress-ng: vm               238801     45.13     19.22     13.12      5290.82        7383.41\n"
    "    # stress-ng: vm-addr              71     45.10     12.25      3.41         1.57           4.53\n"
    "    # stress-ng: memhotplug          335     45.12      0.07      2.97         7.42         110.25\n"
    "    # stress-ng: miscellaneous metrics:\n"
    "    # stress-ng: memhotplug             0.72 millisecs per offline action (geometic mean of 1 instances)\n"
    "    # stress-ng: memhotplug             0.03 millisecs per online action (geometic mean of 1 instances)\n"
    "    # stress-ng: fail: vm: detected 1 bit errors\n"
    "    # stress-ng: exit 3\n"
    "    # trinity: 29486 syscalls in 92s over 1 run(s), 0 ended early; seeds 2432922667..2432922667\n"
    "    ok 1 trinity ran syscalls\n";

StressStats feed_all(const std::string& console) { return testing::stress_of(console); }

TEST(StressNg, BogoOpsExitAndProblemsAreRead) {
    StressStats s = feed_all(kSessionWithStressNg);
    const StressNgStats& n = s.stress_ng;
    ASSERT_TRUE(n.seen);
    EXPECT_EQ(n.planned_seconds, 45);
    ASSERT_TRUE(n.exit_code.has_value());
    EXPECT_EQ(*n.exit_code, 3);
    // The header rows and the miscellaneous metrics are not stressors' ops.
    EXPECT_EQ(n.bogo_ops.size(), 3u);
    EXPECT_EQ(n.bogo_ops.at("vm"), 238801);
    EXPECT_EQ(n.bogo_ops.at("vm-addr"), 71);
    EXPECT_EQ(n.bogo_ops.at("memhotplug"), 335);
    ASSERT_EQ(n.problems.size(), 2u);
    EXPECT_EQ(n.problems[0], "numa: no NUMA nodes found, skipping test");
    EXPECT_EQ(n.problems[1], "fail: vm: detected 1 bit errors");
    EXPECT_EQ(s.syscalls, 29486);   // trinity's figures are untouched
}

TEST(StressNg, SessionCutShortHasNoExitCode) {
    StressStats s = feed_all(
        "    # trinity: 120s from seed 11, 2 children, args: -g vm (uptime 2.00)\n"
        "    # stress-ng: 60s: --vm 2\n"
        "[   30.000000] Kernel panic - not syncing: Fatal exception\n");
    ASSERT_TRUE(s.stress_ng.seen);
    EXPECT_FALSE(s.stress_ng.exit_code.has_value());
    EXPECT_TRUE(s.stress_ng.bogo_ops.empty());
}

TEST(StressNg, ResultsJsonCarriesTheStressors) {
    BootResult b;
    b.outcome = BootOutcome::Completed;
    b.stress = feed_all(kSessionWithStressNg);
    RunInfo info;
    info.label = "stress";
    info.trinity_seconds = 90;
    const auto n = results_json(info, b, Verdict{})["trinity"]["session"]["stress_ng"];
    EXPECT_EQ(n["seconds"], 45);
    EXPECT_EQ(n["exit_code"], 3);
    EXPECT_EQ(n["bogo_ops"]["memhotplug"], 335);
    EXPECT_EQ(n["problems"].size(), 2u);
}

TEST(StressNg, TheCommittedStressorsAreReadAsOneCommandLine) {
    std::string words = read_stress_ng_args(testing::guest_dir() / "stress-ng.args");
    EXPECT_EQ(words.find('#'), std::string::npos);
    for (const char* stressor : {"--vm ", "--vm-addr ", "--page-in", "--memhotplug ", "--numa "})
        EXPECT_NE(words.find(stressor), std::string::npos) << stressor;
}

TEST(StressNg, ArgsThatSetTheTimeoutOrNameNothingAreRefused) {
    auto dir = std::filesystem::temp_directory_path() / "mmguard-stress-ng-args";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "timeout") << "--vm 1 --timeout 10s\n";
    std::ofstream(dir / "empty") << "# nothing here\n\n";
    EXPECT_THROW(read_stress_ng_args(dir / "timeout"), HarnessError);
    EXPECT_THROW(read_stress_ng_args(dir / "empty"), HarnessError);
    EXPECT_THROW(read_stress_ng_args(dir / "missing"), HarnessError);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mmguard
