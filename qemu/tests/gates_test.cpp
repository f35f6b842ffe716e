// The data and output readers of `mmguard gates`.
#include <gtest/gtest.h>

#include <fstream>

#include "build_diagnostics.h"
#include "gate_data.h"
#include "kernel_build.h"
#include "process.h"
#include "test_files.h"

namespace mmguard {
namespace {

namespace fs = std::filesystem;

class GateDataTest : public ::testing::Test {
protected:
    void SetUp() override { dir = testing::scratch_dir("gates"); }
    void TearDown() override { fs::remove_all(dir); }
    void put(const std::string& name, const std::string& text) { std::ofstream(dir / name) << text; }
    fs::path dir;
};

TEST_F(GateDataTest, ConfigsComeInFileOrderWithTheirGateWords) {
    put("01-debug-vm-off.config",
        "# DEBUG_VM off.\n# gate: fast\n# identical: mm/rmap.o mm/vmstat.o\n# CONFIG_DEBUG_VM is not set\n");
    put("00-project.config", "# The project's own.\n# gate: fast sparse\n");
    put("10-defconfig.config", "# defconfig.\n# base: defconfig\nCONFIG_KUNIT=y\n");
    put("README", "not a config\n");
    auto c = read_gate_configs(dir);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].name, "project");
    EXPECT_TRUE(c[0].fast && c[0].sparse && !c[0].defconfig_base);
    EXPECT_EQ(c[0].options, "");
    EXPECT_EQ(c[1].name, "debug-vm-off");
    EXPECT_EQ(c[1].about, "DEBUG_VM off.");
    EXPECT_EQ(c[1].identical, (std::vector<std::string>{"mm/rmap.o", "mm/vmstat.o"}));
    EXPECT_EQ(c[1].options, "# CONFIG_DEBUG_VM is not set\n");
    EXPECT_EQ(parse_config_fragment(c[1].options).at("CONFIG_DEBUG_VM"), "n");
    EXPECT_TRUE(c[2].defconfig_base);
    EXPECT_FALSE(c[2].fast);
}

TEST_F(GateDataTest, AConfigLineThatIsNoAssignmentIsAnError) {
    put("00-x.config", "CONFIG_A=y\nDEBUG_VM=n\n");
    EXPECT_THROW(read_gate_configs(dir), HarnessError);
    put("00-x.config", "# gate: fats\n");
    EXPECT_THROW(read_gate_configs(dir), HarnessError);
}

TEST_F(GateDataTest, ObjectsAreBuiltOnlyWhenTheirOptionsAreY) {
    put("objects", "# comment\nmm/page_alloc.o\nmm/page_isolation.o CONFIG_MEMORY_ISOLATION\n"
                   "mm/mmguard/c.o CONFIG_MMGUARD_KUNIT CONFIG_CMA  # both\n");
    auto table = read_gate_objects(dir / "objects");
    ASSERT_EQ(table.size(), 3u);
    std::map<std::string, std::string> config = {{"CONFIG_MEMORY_ISOLATION", "y"}, {"CONFIG_MMGUARD_KUNIT", "y"},
                                                 {"CONFIG_CMA", "n"}};
    EXPECT_EQ(objects_built(table, config), (std::vector<std::string>{"mm/page_alloc.o", "mm/page_isolation.o"}));
    put("objects", "mm/page_alloc.c\n");
    EXPECT_THROW(read_gate_objects(dir / "objects"), HarnessError);
}

TEST_F(GateDataTest, LinkAllowedSymbolsHoldOnlyWhereTheirOptionsAreY) {
    put("link-allowed", "# comment\n\ndump_page: mm/debug.c is always built\n"
                        "cma_alloc CONFIG_CMA CONFIG_MMU:  mm/cma.c, built with CMA\n");
    auto list = read_allowed_symbols(dir / "link-allowed");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1].symbol, "cma_alloc");
    EXPECT_EQ(list[1].needs, (std::vector<std::string>{"CONFIG_CMA", "CONFIG_MMU"}));
    EXPECT_EQ(list[1].why, "mm/cma.c, built with CMA");
    std::map<std::string, std::string> config = {{"CONFIG_CMA", "n"}, {"CONFIG_MMU", "y"}};
    EXPECT_EQ(allowed_symbols_in(list, config),
              (std::map<std::string, std::string>{{"dump_page", "mm/debug.c is always built"}}));
    config["CONFIG_CMA"] = "y";
    EXPECT_EQ(allowed_symbols_in(list, config).size(), 2u);
    EXPECT_TRUE(read_allowed_symbols(dir / "missing").empty());
    put("link-allowed", "dump_page\n");
    EXPECT_THROW(read_allowed_symbols(dir / "link-allowed"), HarnessError);
    put("link-allowed", "dump_page MMU: why\n");
    EXPECT_THROW(read_allowed_symbols(dir / "link-allowed"), HarnessError);
}

TEST(BuildDiagnostics, KeepFileLevelAndMessageWithoutLineNumbers) {
    std::string out =
        "  CC      mm/page_alloc.o\n"
        "../src/mm/page_alloc.c: In function 'foo':\n"
        "../src/mm/page_alloc.c:123:45: warning: unused variable 'x' [-Wunused-variable]\n"
        "  123 |  int x;\n"
        "      |      ^\n"
        "/work/build/src/mm/rmap.c:9:1: error: expected ';' before '}' token\n"
        "../src/mm/vmstat.c:77:9: warning: context imbalance in 'f' - unexpected unlock\n"
        "../src/include/linux/mm.h:5:2: note: in expansion of macro\n";
    EXPECT_EQ(build_diagnostics(out),
              (std::vector<std::string>{"mm/page_alloc.c: warning: unused variable 'x' [-Wunused-variable]",
                                        "mm/rmap.c: error: expected ';' before '}' token",
                                        "mm/vmstat.c: warning: context imbalance in 'f' - unexpected unlock"}));
}

TEST(BuildDiagnostics, NewOnesAreAMultisetDifference) {
    std::vector<std::string> base = {"a: warning: x", "a: warning: x", "b: warning: y"};
    std::vector<std::string> patched = {"a: warning: x", "b: warning: y", "a: warning: x", "a: warning: x",
                                        "c: warning: z"};
    EXPECT_EQ(new_diagnostics(base, patched), (std::vector<std::string>{"a: warning: x", "c: warning: z"}));
    EXPECT_TRUE(new_diagnostics(patched, base).empty());
}

TEST(Checkpatch, MessagesWithAndWithoutTypesAndTheAllowedOnes) {
    std::string out =
        "mm/mmguard/h.c:23: CHECK:AVOID_BUG: Do not crash the kernel unless it is absolutely unavoidable\n"
        "patches/0002-x.patch:65: CHECK: Please use a blank line after function/struct/union/enum declarations\n"
        "patches/0001-y.patch:86: ERROR:TRAILING_WHITESPACE: trailing whitespace\n"
        "total: 1 errors, 0 warnings, 2 checks, 283 lines checked\n";
    std::vector<AllowedMessage> allowed = {{"mm/mmguard/h.c", "Do not crash the kernel", "on purpose"}};
    auto m = checkpatch_messages(out, allowed);
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].level, "CHECK");
    EXPECT_EQ(m[0].line, 23);
    EXPECT_EQ(m[0].allowed_because, "on purpose");
    EXPECT_EQ(m[1].message, "Please use a blank line after function/struct/union/enum declarations");
    EXPECT_EQ(m[1].allowed_because, "");
    EXPECT_EQ(m[2].level, "ERROR");
    EXPECT_EQ(m[2].message, "trailing whitespace");
}

}  // namespace
}  // namespace mmguard
