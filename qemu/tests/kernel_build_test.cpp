#include <gtest/gtest.h>

#include "kernel_build.h"

namespace mmguard {
namespace {

TEST(ConfigFragment, ParsesSetAndUnsetOptions) {
    auto wanted = parse_config_fragment("# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=64\nCONFIG_D=\"x y\"\n");
    EXPECT_EQ(wanted.size(), 4u);
    EXPECT_EQ(wanted["CONFIG_A"], "y");
    EXPECT_EQ(wanted["CONFIG_B"], "n");
    EXPECT_EQ(wanted["CONFIG_C"], "64");
    EXPECT_EQ(wanted["CONFIG_D"], "\"x y\"");
}

TEST(ConfigFragment, ReportsOptionsThatDidNotStick) {
    auto wanted = parse_config_fragment("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=8\n");
    auto missing = missing_options(wanted, "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_D=8\n");
    ASSERT_EQ(missing.size(), 2u);
    EXPECT_EQ(missing[0], "CONFIG_B: wanted y, got n");
    EXPECT_EQ(missing[1], "CONFIG_C: wanted n, got y");
}

TEST(ConfigFragment, AllPresentMeansNothingMissing) {
    auto wanted = parse_config_fragment("CONFIG_A=y\n");
    EXPECT_TRUE(missing_options(wanted, "CONFIG_A=y\nCONFIG_OTHER=y\n").empty());
}

}  // namespace
}  // namespace mmguard
