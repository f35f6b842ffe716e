// The stack's patch files against git format-patch, on a tiny stand-in tree.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "git_repo.h"
#include "process.h"
#include "test_files.h"
#include "series_files.h"

namespace mmguard {
namespace {

using testing::put;
using testing::slurp;

// A patch as a person might have written it: no index line, no diffstat.
std::string hand_made_patch() {
    return "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
           "From: Test Author <test@example.org>\n"
           "Date: Mon, 1 Jan 2024 00:00:00 +0000\n"
           "Subject: [PATCH] mm/page_alloc: change b\n\n"
           "Body of the change.\n---\n"
           "diff --git a/mm/page_alloc.c b/mm/page_alloc.c\n"
           "--- a/mm/page_alloc.c\n+++ b/mm/page_alloc.c\n"
           "@@ -4,3 +4,3 @@\n int a;\n-int b;\n+int b2;\n int c;\n";
}

// Hunks at the top of a file are anchored there by git apply: start lower.
const std::string kSource = "int p;\nint q;\nint r;\nint a;\nint b;\nint c;\nint x;\nint y;\nint z;\n";

class SeriesFilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        root = testing::scratch_dir("series-files");
        ksrc = root / "linux";
        ws = testing::stand_in_tree(root, kSource);
        put(ws.patches() / "series", "# comment\n0020-mm-page_alloc-change-b.patch\n");
        put(ws.patches() / "0020-mm-page_alloc-change-b.patch", hand_made_patch());
        options.ksrc = ksrc;
    }
    void TearDown() override { fs::remove_all(root); }

    std::vector<SeriesDrift> drift() {
        PreparedTree tree = prepare_tree(ws, options);
        auto files = format_series_commits(ws, tree, root / "fresh");
        return compare_series(files, read_series(ws.patches() / "series"), ws.patches());
    }

    fs::path root, ksrc;
    Workspace ws;
    TreeOptions options;
};

TEST(PatchNumber, ComesFromTheFileName) {
    EXPECT_EQ(patch_number("0020-mm-page_alloc-drain.patch"), 20);
    EXPECT_EQ(patch_number("0001-x.patch"), 1);
    EXPECT_EQ(patch_number("fix.patch"), 0);
    EXPECT_EQ(patch_number("0020.patch"), 0);
}

TEST_F(SeriesFilesTest, AHandMadePatchIsNotFormatPatchOutput) {
    auto d = drift();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].name, "0020-mm-page_alloc-change-b.patch");
    EXPECT_NE(d[0].why.find("differs from git format-patch"), std::string::npos) << d[0].why;
}

TEST_F(SeriesFilesTest, UpdateWritesFormatPatchOutputKeepingTheNumber) {
    PreparedTree tree = prepare_tree(ws, options);
    auto files = format_series_commits(ws, tree, root / "fresh");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].filename(), "0020-mm-page_alloc-change-b.patch");
    // A file whose name is not the one format-patch gives is renamed, in
    // patches/series too.
    fs::rename(ws.patches() / "0020-mm-page_alloc-change-b.patch", ws.patches() / "0020-change-b.patch");
    put(ws.patches() / "series", "# comment\n0020-change-b.patch\n");
    update_series(files, read_series(ws.patches() / "series"), ws.patches());
    EXPECT_EQ(read_series(ws.patches() / "series"), std::vector<std::string>{"0020-mm-page_alloc-change-b.patch"});
    EXPECT_FALSE(fs::exists(ws.patches() / "0020-change-b.patch"));
    EXPECT_NE(slurp(ws.patches() / "series").find("# comment"), std::string::npos);
    EXPECT_TRUE(drift().empty());
}

TEST_F(SeriesFilesTest, APatchThatAppliesWithAnOffsetIsDrift) {
    // Make the file format-patch output first, then move the code it
    // changes down by a line: git apply still takes it (offset 1), the
    // check must not.
    PreparedTree tree = prepare_tree(ws, options);
    update_series(format_series_commits(ws, tree, root / "fresh"), read_series(ws.patches() / "series"),
                  ws.patches());
    put(ksrc / "mm/page_alloc.c", "int o;\n" + kSource);
    auto d = drift();
    ASSERT_EQ(d.size(), 1u);
    EXPECT_NE(d[0].why.find("format-patch writes '@@ -3,7 +3,7 @@"), std::string::npos) << d[0].why;
    EXPECT_NE(d[0].why.find("applies only with an offset"), std::string::npos) << d[0].why;
}

TEST_F(SeriesFilesTest, ExportHasACoverLetterAndGitAmGivesTheBuiltTree) {
    put(ws.patches() / "cover-letter", "mm: the test series\n\nWhat it does and why.\n");
    PreparedTree tree = prepare_tree(ws, options);
    auto files = export_series_with_cover(ws, tree, root / "export");
    ASSERT_EQ(files.size(), 3u);  // cover letter, the patch, the KUnit hook
    std::string cover = slurp(files[0]);
    EXPECT_NE(cover.find("Subject: [PATCH 0/2] mm: the test series"), std::string::npos) << cover;
    EXPECT_NE(cover.find("What it does and why."), std::string::npos);
    EXPECT_NE(cover.find("base-commit: " + tree.base_commit), std::string::npos);
    EXPECT_NE(slurp(files[2]).find("mm/mmguard/t.c"), std::string::npos);
    GitRepo git(ws.src() / ".git", ws.src());
    EXPECT_EQ(git_am_tree(ws, tree, files), git.run({"rev-parse", tree.head_commit + "^{tree}"}));
}

TEST_F(SeriesFilesTest, GitAmOfABrokenExportIsAnError) {
    PreparedTree tree = prepare_tree(ws, options);
    auto files = export_series_with_cover(ws, tree, root / "export");
    std::string patch = slurp(files[1]);
    patch.replace(patch.find(" int c;"), 7, " int k;");
    put(files[1], patch);
    EXPECT_THROW(git_am_tree(ws, tree, files), HarnessError);
}

}  // namespace
}  // namespace mmguard
