// Per-test pass counts over repeated boots.
#include <gtest/gtest.h>

#include "repeat_tally.h"

namespace mmguard {
namespace {

BootResult boot_with(TestStatus a, TestStatus b) {
    BootResult boot;
    TestResult suite;
    suite.name = "s";
    TestResult x, y;
    x.name = "a";
    x.status = a;
    y.name = "b";
    y.status = b;
    suite.subtests = {x, y};
    TestResult self;
    self.name = "selftest";
    boot.tests = {suite, self};
    return boot;
}

TEST(RepeatTally, CountsEachLeafAndFindsFlakes) {
    std::map<std::string, TestTally> t;
    tally_boot(boot_with(TestStatus::Pass, TestStatus::Skip), t);
    tally_boot(boot_with(TestStatus::Pass, TestStatus::Skip), t);
    tally_boot(boot_with(TestStatus::Crashed, TestStatus::Skip), t);
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t["s.a"].passed, 2);
    EXPECT_EQ(t["s.a"].failed, 1);
    EXPECT_TRUE(t["s.a"].flaky());
    EXPECT_EQ(t["s.b"].skipped, 3);
    EXPECT_FALSE(t["s.b"].flaky());
    EXPECT_EQ(t["selftest"].passed, 3);
    std::string md = tally_markdown(t, 4);
    EXPECT_NE(md.find("| s.a | 2 | 0 | 1 | 3 of 4 | FLAKY |"), std::string::npos) << md;
    EXPECT_NE(md.find("| s.b | 0 | 3 | 0 | 3 of 4 | MISSING in some boots |"), std::string::npos) << md;
}

}  // namespace
}  // namespace mmguard
