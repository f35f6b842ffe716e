// The bench's figures from a boot's diagnostic lines, and its ratios.
#include <gtest/gtest.h>

#include "bench_table.h"

namespace mmguard {
namespace {

std::string fmt_line(double ns, double min) {
    return "order0-1cpu: mmguard_bench: case=order0-1cpu order=0 cpus=1 ops=1000 ns_per_op=" +
           std::to_string(static_cast<long>(ns)) + " min=" + std::to_string(static_cast<long>(min)) +
           " max=900 fails=0";
}

BootResult boot_printing(double order0, double order0_min, double kpageflags) {
    BootResult b;
    TestResult suite;
    suite.name = "mmguard_bench";
    TestResult c;
    c.name = "order0_1cpu";
    c.diagnostics = {fmt_line(order0, order0_min)};
    suite.subtests.push_back(c);
    b.tests.push_back(suite);
    TestResult self;
    self.name = "kpage_read_cost";
    self.diagnostics = {"kpage_read_cost: clocksource=tsc",
                        "kpage_read_cost: kpageflags thp=0 pfns=524288 ns_per_pfn=" + std::to_string(kpageflags) +
                            " best_of=9"};
    b.tests.push_back(self);
    return b;
}

TEST(BenchFigures, AllocAndKpageLinesAreReadByCaseName) {
    auto f = bench_figures(boot_printing(300, 250, 186.5));
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f["alloc order0-1cpu"].median, 300);
    EXPECT_EQ(f["alloc order0-1cpu"].best, 250);
    EXPECT_DOUBLE_EQ(f["kpageflags thp=0"].best, 186.5);
    EXPECT_TRUE(bench_figures(BootResult{}).empty());
}

TEST(BenchRows, RatiosArePerPairAndTheirMedianMinMax) {
    std::vector<std::map<std::string, BenchFigure>> base, patched;
    for (double r : {1.10, 0.90, 1.00}) {
        base.push_back(bench_figures(boot_printing(100, 80, 200)));
        patched.push_back(bench_figures(boot_printing(100 * r, 80, 200 * r)));
    }
    auto rows = bench_rows(base, patched, false);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].name, "alloc order0-1cpu");
    EXPECT_EQ(rows[0].pairs, 3);
    EXPECT_NEAR(rows[0].ratio_median, 1.00, 1e-9);
    EXPECT_NEAR(rows[0].ratio_min, 0.90, 1e-9);
    EXPECT_NEAR(rows[0].ratio_max, 1.10, 1e-9);
    EXPECT_NEAR(rows[0].ratios[0], 1.10, 1e-9);
    auto best = bench_rows(base, patched, true);
    EXPECT_NEAR(best[0].ratio_max, 1.0, 1e-9);   // the best figures did not move
    // A pair missing a case on one side is left out of that case.
    patched[1].erase("kpageflags thp=0");
    EXPECT_EQ(bench_rows(base, patched, false)[1].pairs, 2);
}

TEST(BenchRows, MedianOfEvenAndOddCounts) {
    EXPECT_EQ(median_of({3, 1, 2}), 2);
    EXPECT_EQ(median_of({4, 1, 3, 2}), 2.5);
    EXPECT_EQ(median_of({}), 0);
}

}  // namespace
}  // namespace mmguard
