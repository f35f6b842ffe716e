#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

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

TEST(ConfigFragment, OptionsNoKconfigDeclaresAreNamed) {
    namespace fs = std::filesystem;
    fs::path tree = fs::temp_directory_path() / ("mmguard-kconfig-" + std::to_string(::getpid()));
    fs::create_directories(tree / "mm");
    fs::create_directories(tree / ".git");
    std::ofstream(tree / "Kconfig") << "config KNOWN_A\n\tbool \"a\"\n";
    std::ofstream(tree / "mm" / "Kconfig.debug") << "menuconfig KNOWN_B\n  bool\n# config IN_A_COMMENT\n";
    std::ofstream(tree / ".git" / "Kconfig") << "config HIDDEN\n";
    auto symbols = kconfig_symbols(tree);
    fs::remove_all(tree);
    EXPECT_EQ(symbols, (std::set<std::string>{"CONFIG_KNOWN_A", "CONFIG_KNOWN_B"}));
    // "# CONFIG_TYPO is not set" used to pass silently: wanted n, got n.
    auto wanted = parse_config_fragment("CONFIG_KNOWN_A=y\n# CONFIG_KNOWN_B is not set\n"
                                        "# CONFIG_TYPO is not set\nCONFIG_HIDDEN=y\n");
    EXPECT_TRUE(missing_options(wanted, "CONFIG_KNOWN_A=y\nCONFIG_HIDDEN=y\n").empty());
    EXPECT_EQ(unknown_options(wanted, symbols), (std::vector<std::string>{"CONFIG_HIDDEN", "CONFIG_TYPO"}));
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
