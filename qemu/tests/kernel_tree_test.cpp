// Tree preparation against a tiny stand-in kernel tree (KSRC mode).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kernel_tree.h"
#include "process.h"
#include "test_files.h"

namespace mmguard {
namespace {

using testing::put;
using testing::slurp;

std::string patch_for(const std::string& old_line, const std::string& new_line, const std::string& subject) {
    return "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
           "From: Test Author <test@example.org>\n"
           "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
           "Subject: [PATCH] " + subject + "\n\n"
           "Body of the change.\n---\n"
           "diff --git a/mm/page_alloc.c b/mm/page_alloc.c\n"
           "--- a/mm/page_alloc.c\n+++ b/mm/page_alloc.c\n"
           "@@ -1,3 +1,3 @@\n int a;\n-" + old_line + "\n+" + new_line + "\n int c;\n";
}

class KernelTreeTest : public ::testing::Test {
protected:
    void SetUp() override {
        root = testing::scratch_dir("tree");
        ksrc = root / "linux";
        ws = testing::stand_in_tree(root, "int a;\nint b;\nint c;\n", 117);
        put(ws.patches() / "series", "# comment\n0001-change-b.patch\n");
        put(ws.patches() / "0001-change-b.patch", patch_for("int b;", "int b2;", "mm/page_alloc: change b"));
        options.ksrc = ksrc;
    }
    void TearDown() override { fs::remove_all(root); }

    fs::path root, ksrc;
    Workspace ws;
    TreeOptions options;
};

TEST_F(KernelTreeTest, AppliesSeriesAndHooksKunitWithoutTouchingTheSource) {
    PreparedTree tree = prepare_tree(ws, options);
    ASSERT_EQ(tree.applied.size(), 1u);
    EXPECT_EQ(tree.applied[0], "mm/page_alloc: change b");
    EXPECT_TRUE(tree.checked_out);
    EXPECT_EQ(tree.kernel_version, "6.12.117");
    EXPECT_EQ(slurp(ws.src() / "mm/page_alloc.c"), "int a;\nint b2;\nint c;\n");
    EXPECT_EQ(slurp(ws.src() / "mm/mmguard/t.c"), "/* test */\n");
    EXPECT_NE(slurp(ws.src() / "mm/Kconfig").find("source \"mm/mmguard/Kconfig\""), std::string::npos);
    EXPECT_NE(slurp(ws.src() / "mm/Makefile").find("obj-y += mmguard/"), std::string::npos);
    // The user's tree is read, never written.
    EXPECT_EQ(slurp(ksrc / "mm/page_alloc.c"), "int a;\nint b;\nint c;\n");
}

TEST_F(KernelTreeTest, SecondPrepareWithNoChangeRewritesNothing) {
    prepare_tree(ws, options);
    auto before = fs::last_write_time(ws.src() / "mm/page_alloc.c");
    PreparedTree again = prepare_tree(ws, options);
    EXPECT_FALSE(again.checked_out);
    EXPECT_EQ(fs::last_write_time(ws.src() / "mm/page_alloc.c"), before);
}

TEST_F(KernelTreeTest, StackCommitsAreRememberedAndRebuiltWhenAPatchOrTheKunitSourcesChange) {
    PreparedTree first = prepare_tree(ws, options);
    fs::path memo = ws.src() / ".git/mmguard-commit-memo";
    ASSERT_TRUE(fs::exists(memo));
    EXPECT_EQ(prepare_tree(ws, options).head_commit, first.head_commit);
    // A changed patch is applied again, never taken from the memo.
    put(ws.patches() / "0001-change-b.patch", patch_for("int b;", "int b3;", "mm/page_alloc: change b"));
    PreparedTree changed = prepare_tree(ws, options);
    EXPECT_NE(changed.head_commit, first.head_commit);
    EXPECT_EQ(slurp(ws.src() / "mm/page_alloc.c"), "int a;\nint b3;\nint c;\n");
    // So is a changed KUnit source.
    put(ws.kunit() / "t.c", "/* test 2 */\n");
    prepare_tree(ws, options);
    EXPECT_EQ(slurp(ws.src() / "mm/mmguard/t.c"), "/* test 2 */\n");
    // A memo naming commits the repository lacks is ignored.
    std::istringstream lines(slurp(memo));
    std::string key, commit, text;
    while (lines >> key >> commit) text += key + " " + std::string(40, 'f') + "\n";
    put(memo, text);
    put(ws.patches() / "0001-change-b.patch", patch_for("int b;", "int b2;", "mm/page_alloc: change b"));
    put(ws.kunit() / "t.c", "/* test */\n");
    EXPECT_EQ(prepare_tree(ws, options).head_commit, first.head_commit);
}

TEST_F(KernelTreeTest, BaseLeavesPatchesOutButKeepsKunit) {
    options.apply_series = false;
    PreparedTree tree = prepare_tree(ws, options);
    EXPECT_TRUE(tree.applied.empty());
    EXPECT_EQ(slurp(ws.src() / "mm/page_alloc.c"), "int a;\nint b;\nint c;\n");
    EXPECT_TRUE(fs::exists(ws.src() / "mm/mmguard/t.c"));
}

TEST_F(KernelTreeTest, SwitchingBaseToPatchedTouchesOnlyChangedFiles) {
    options.apply_series = false;
    prepare_tree(ws, options);
    auto kconfig_time = fs::last_write_time(ws.src() / "mm/Kconfig");
    options.apply_series = true;
    PreparedTree tree = prepare_tree(ws, options);
    EXPECT_TRUE(tree.checked_out);
    EXPECT_EQ(fs::last_write_time(ws.src() / "mm/Kconfig"), kconfig_time);
    EXPECT_EQ(slurp(ws.src() / "mm/page_alloc.c"), "int a;\nint b2;\nint c;\n");
}

TEST_F(KernelTreeTest, PatchThatDoesNotApplyNamesPatchAndHunkAndLeavesTreeAlone) {
    prepare_tree(ws, options);
    put(ws.patches() / "series", "0001-change-b.patch\n0002-bad.patch\n");
    put(ws.patches() / "0002-bad.patch", patch_for("int zzz;", "int yyy;", "mm/page_alloc: does not apply"));
    try {
        prepare_tree(ws, options);
        FAIL() << "expected HarnessError";
    } catch (const HarnessError& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("0002-bad.patch"), std::string::npos) << what;
        EXPECT_NE(what.find("mm/page_alloc.c:1"), std::string::npos) << what;
    }
    EXPECT_EQ(slurp(ws.src() / "mm/page_alloc.c"), "int a;\nint b2;\nint c;\n");
}

TEST_F(KernelTreeTest, LocalEditsInTheBuildTreeAreNotOverwritten) {
    prepare_tree(ws, options);
    put(ws.src() / "mm/page_alloc.c", "int edited;\n");
    options.apply_series = false;
    EXPECT_THROW(prepare_tree(ws, options), HarnessError);
    EXPECT_EQ(slurp(ws.src() / "mm/page_alloc.c"), "int edited;\n");
    options.force = true;
    prepare_tree(ws, options);
    EXPECT_EQ(slurp(ws.src() / "mm/page_alloc.c"), "int a;\nint b;\nint c;\n");
}

TEST(ReadSeries, SkipsCommentsAndRejectsUnknownOptions) {
    auto dir = fs::temp_directory_path() / ("mmguard-series-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    put(dir / "series", "# c\n\na.patch\nb.patch -p1 # trailing\n");
    EXPECT_EQ(read_series(dir / "series"), (std::vector<std::string>{"a.patch", "b.patch"}));
    put(dir / "series", "a.patch -p0\n");
    EXPECT_THROW(read_series(dir / "series"), HarnessError);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace mmguard
