// The coverage pipeline without a kernel: the guest's dump (a busybox tar on
// a raw disk image, named by one console line), where each .gcda goes, and
// per-function figures from gcov's JSON, on the committed sample in
// testdata/coverage/ (sample.c built with gcc -O2 --coverage, run with two
// arguments; sample.gcov.json is `gcov -b --json-format --stdout` of it).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "coverage_data.h"
#include "process.h"
#include "test_paths.h"

namespace mmguard {
namespace {

namespace fs = std::filesystem;

const fs::path kData = mmguard::testing::consoles_dir().parent_path() / "coverage";

std::string bytes_of(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// The disk as the host reads it back: the archive, then the image's zeros.
std::string disk_with(const std::string& archive) { return archive + std::string(1 << 16, '\0'); }

CoverageDump dump_of(const std::string& archive, std::size_t files) {
    return {files, archive.size(), md5_hex(archive)};
}

TEST(CoverageDump, FindsTheGuestsLineAmongConsoleText) {
    std::string console =
        "[   12.000000] ok 1 mmguard_freepages\n"
        "mmguard: coverage: 3 files, 100 bytes, md5 00000000000000000000000000000000\n"
        "[   13.500000] mmguard: coverage: 10 files, 614400 bytes, md5 0123456789abcdef0123456789abcdef\r\n"
        "mmguard: guest done\n";
    auto d = find_dump_line(console);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->files, 10u);   // the last one counts
    EXPECT_EQ(d->bytes, 614400u);
    EXPECT_EQ(d->md5, "0123456789abcdef0123456789abcdef");
    EXPECT_FALSE(find_dump_failure(console));
}

TEST(CoverageDump, AGuestThatDiedOrFailedSaysNothingUsable) {
    EXPECT_FALSE(find_dump_line("[  3.1] Kernel panic - not syncing: Fatal exception\n"));
    // A truncated line (the console cut mid-line) is not taken.
    EXPECT_FALSE(find_dump_line("mmguard: coverage: 10 files, 6144"));
    auto why = find_dump_failure("mmguard: coverage: FAILED no /sys/kernel/debug/gcov (kernel without CONFIG_GCOV_KERNEL?)\n");
    ASSERT_TRUE(why);
    EXPECT_EQ(*why, "no /sys/kernel/debug/gcov (kernel without CONFIG_GCOV_KERNEL?)");
}

TEST(CoverageDump, Md5IsTheUsualOne) {
    EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(CoverageDump, ReadsBusyboxTarFromTheDisk) {
    std::string archive = bytes_of(kData / "dump.tar");
    ASSERT_EQ(archive.size(), 6656u);
    auto members = read_dump(disk_with(archive), dump_of(archive, 2));
    ASSERT_EQ(members.size(), 2u);   // directories are left out
    EXPECT_EQ(members[0].path, "./work/kbuild/obj/mm/sample.gcda");
    EXPECT_EQ(members[0].data.size(), 132u);
    EXPECT_EQ(members[0].data.substr(0, 4), "adcg");   // gcov's data magic, little-endian "gcda"
    EXPECT_EQ(members[1].path, "./work/kbuild/obj/fs/proc/page.gcda");
    EXPECT_EQ(members[1].data, "gcda-of-page");
}

TEST(CoverageDump, ReadsGnuLongNames) {
    std::string archive = bytes_of(kData / "dump-long-names.tar");
    auto members = read_dump(disk_with(archive), dump_of(archive, 1));
    ASSERT_EQ(members.size(), 1u);
    EXPECT_GT(members[0].path.size(), 100u);
    EXPECT_EQ(members[0].data, "long-path-gcda");
    fs::path obj = "/home/a-rather-long-user-name/projects/mmguard-checkout-with-a-long-name/build/"
                   "coverage-work-for-testing-long-paths/obj";
    EXPECT_EQ(gcda_relative_path(members[0].path, obj), fs::path("mm/page_alloc.gcda"));
}

TEST(CoverageDump, RefusesADumpThatIsNotWhatTheGuestSaid) {
    std::string archive = bytes_of(kData / "dump.tar");
    std::string disk = disk_with(archive);
    // Nothing written (a guest that died first leaves the image all zeros).
    std::string zeros(disk.size(), '\0');
    EXPECT_THROW(read_dump(zeros, dump_of(archive, 2)), HarnessError);
    // One flipped byte in the data.
    std::string flipped = disk;
    flipped[1024 + 5] ^= 1;
    EXPECT_THROW(read_dump(flipped, dump_of(archive, 2)), HarnessError);
    // The guest counted another number of files.
    EXPECT_THROW(read_dump(disk, dump_of(archive, 3)), HarnessError);
    // A disk shorter than the announced archive.
    EXPECT_THROW(read_dump(archive.substr(0, 4096), dump_of(archive, 2)), HarnessError);
    // A truncated archive whose md5 the guest computed over the truncation.
    std::string cut = archive.substr(0, 1024 + 100);
    EXPECT_THROW(read_dump(disk_with(cut), dump_of(cut, 1)), HarnessError);
}

TEST(CoverageDump, BadTarHeaderChecksumIsAnError) {
    std::string archive = bytes_of(kData / "dump.tar");
    archive[0] = 'X';   // the name changes, the checksum does not
    EXPECT_THROW(read_tar(archive), HarnessError);
}

TEST(CoverageDump, GcdaPathsMapIntoTheObjectDirectory) {
    fs::path obj = "/work/wt/build/coverage-work/obj";
    EXPECT_EQ(gcda_relative_path("./work/wt/build/coverage-work/obj/mm/page_alloc.gcda", obj),
              fs::path("mm/page_alloc.gcda"));
    EXPECT_EQ(gcda_relative_path("work/wt/build/coverage-work/obj/fs/proc/page.gcda", obj / ""),
              fs::path("fs/proc/page.gcda"));
    // Built somewhere else: the .gcno beside which it belongs is not here.
    EXPECT_THROW(gcda_relative_path("./work/main/build/obj/mm/page_alloc.gcda", obj), HarnessError);
    // A prefix of the directory name is not the directory.
    EXPECT_THROW(gcda_relative_path("./work/wt/build/coverage-work/obj2/mm/x.gcda", obj), HarnessError);
    EXPECT_THROW(gcda_relative_path("./work/wt/build/coverage-work/obj/../../etc/x.gcda", obj), HarnessError);
    EXPECT_THROW(gcda_relative_path("./work/wt/build/coverage-work/obj/mm/page_alloc.gcno", obj), HarnessError);
}

TEST(GuardedFunctions, ParsesTheRepositorysList) {
    auto list = parse_guarded_functions(bytes_of(mmguard::testing::consoles_dir().parent_path().parent_path().parent_path()
                                                     .parent_path() / "patches/guarded-functions"),
                                        "patches/guarded-functions");
    ASSERT_GE(list.size(), 20u);
    EXPECT_EQ(list[0].file, "mm/page_alloc.c");
    EXPECT_EQ(list[0].function, "__free_one_page");
    EXPECT_EQ(list[0].topic, "000-cma-placement");
    EXPECT_THROW(parse_guarded_functions("mm/page_alloc.c only_two\n", "x"), HarnessError);
    EXPECT_THROW(parse_guarded_functions("# nothing\n\n", "x"), HarnessError);
}

TEST(GcovJson, ParsesLinesBranchesAndFunctionRecords) {
    auto files = parse_gcov_json(bytes_of(kData / "sample.gcov.json"));
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(files[0].file, "../src/mm/sample.c");
    ASSERT_EQ(files[0].functions.size(), 2u);   // classify was inlined before profiling: no record
    EXPECT_EQ(files[0].functions[0].name, "never_called");
    EXPECT_EQ(files[0].functions[0].blocks_executed, 0);
    EXPECT_EQ(files[0].functions[1].name, "main");
    EXPECT_EQ(files[0].functions[1].blocks, 9);
    EXPECT_EQ(files[0].functions[1].blocks_executed, 8);
    EXPECT_EQ(files[0].lines.size(), 13u);
    EXPECT_THROW(parse_gcov_json("{\"files\": [}"), HarnessError);
    EXPECT_THROW(parse_gcov_json("{\"format_version\": \"1\"}"), HarnessError);
}

TEST(GcovJson, FunctionExtentsFollowKernelStyle) {
    std::string src = bytes_of(kData / "sample.c");
    EXPECT_EQ(function_extent(src, "classify"), std::make_pair(6, 15));
    EXPECT_EQ(function_extent(src, "never_called"), std::make_pair(17, 22));
    EXPECT_EQ(function_extent(src, "main"), std::make_pair(24, 34));
    EXPECT_FALSE(function_extent(src, "counter"));
    EXPECT_FALSE(function_extent(src, "classif"));
    // A prototype is not the definition.
    EXPECT_EQ(function_extent("static int f(int);\nint g(void);\n\nstatic int f(int x)\n{\n\treturn x;\n}\n", "f"),
              std::make_pair(4, 7));
}

TEST(GcovJson, SummarisesAGuardedFunction) {
    auto files = parse_gcov_json(bytes_of(kData / "sample.gcov.json"));
    std::string src = bytes_of(kData / "sample.c");
    auto main_fn = summarize_function({"mm/sample.c", "main", "t"}, files, src);
    ASSERT_TRUE(main_fn.found);
    EXPECT_EQ(main_fn.lines, 6);
    EXPECT_EQ(main_fn.lines_reached, 5);
    EXPECT_EQ(main_fn.branches, 4);
    EXPECT_EQ(main_fn.branches_taken, 3);
    ASSERT_TRUE(main_fn.blocks);
    EXPECT_EQ(*main_fn.blocks_executed, 8);
    EXPECT_EQ(main_fn.unreached, (std::vector<std::pair<int, int>>{{31, 31}}));   // abort()
    EXPECT_EQ(main_fn.untaken_branch_lines, (std::vector<int>{30}));

    auto never = summarize_function({"mm/sample.c", "never_called", "t"}, files, src);
    EXPECT_EQ(never.lines_reached, 0);
    EXPECT_EQ(never.lines, 4);
    EXPECT_EQ(never.unreached, (std::vector<std::pair<int, int>>{{17, 21}}));

    // Inlined before profiling: no record, figures from its lines.
    auto inl = summarize_function({"mm/sample.c", "classify", "t"}, files, src);
    ASSERT_TRUE(inl.found);
    EXPECT_FALSE(inl.blocks);
    EXPECT_NE(inl.note.find("inlined"), std::string::npos);
    EXPECT_EQ(inl.lines, 3);
    EXPECT_EQ(inl.lines_reached, 3);
    EXPECT_EQ(inl.branches, 2);

    EXPECT_FALSE(summarize_function({"mm/other.c", "main", "t"}, files, src).found);
    EXPECT_FALSE(summarize_function({"mm/sample.c", "nowhere", "t"}, files, src).found);

    auto totals = totals_of({main_fn, never, inl});
    EXPECT_EQ(totals.lines, 13);
    EXPECT_EQ(totals.lines_reached, 8);
    auto j = coverage_json({main_fn, never, inl});
    EXPECT_EQ(j["totals"]["branches"], 8);
    EXPECT_EQ(j["functions"][0]["unreached_lines"], nlohmann::json::parse("[[31,31]]"));
    EXPECT_TRUE(j["functions"][2]["blocks"].is_null());
    std::string md = summary_markdown({main_fn, never, inl}, {{"mm/sample.c", src}});
    EXPECT_NE(md.find("| `main` | mm/sample.c:24 | 5/6 (83.3 %) | 3/4 (75.0 %) |"), std::string::npos) << md;
    EXPECT_NE(md.find("   31  abort();"), std::string::npos) << md;
    EXPECT_NE(md.find("**all 3 guarded functions** | | 8/13 (61.5 %)"), std::string::npos) << md;
}

TEST(GcovJson, CheckLinesAreCountedApart) {
    std::string src = "void f(int x)\n{\n\tWARN_ON_ONCE(x > 3);\n\tif (x)\n\t\tx++;\n}\n";
    std::string json = R"({"files": [{"file": "../src/mm/f.c", "functions": [], "lines": [
        {"line_number": 3, "count": 5, "unexecuted_block": true, "branches": [{"count": 5}, {"count": 0}]},
        {"line_number": 4, "count": 5, "unexecuted_block": false, "branches": [{"count": 5}, {"count": 0}]},
        {"line_number": 5, "count": 0, "unexecuted_block": true, "branches": []}]}]})";
    std::string one_line;
    for (char c : json) one_line += c == '\n' ? ' ' : c;
    auto s = summarize_function({"mm/f.c", "f", "t"}, parse_gcov_json(one_line), src);
    EXPECT_EQ(s.branches, 4);
    EXPECT_EQ(s.check_branches, 2);
    EXPECT_EQ(s.check_branches_taken, 1);
    EXPECT_EQ(s.untaken_branch_lines, (std::vector<int>{4}));   // the WARN's line is not listed
    EXPECT_EQ(format_ranges(s.unreached), "5");
    EXPECT_EQ(format_ranges({{1, 3}, {7, 7}}), "1-3, 7");
}

}  // namespace
}  // namespace mmguard
