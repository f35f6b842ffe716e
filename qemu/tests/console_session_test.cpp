#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "console_session.h"
#include "workspace.h"

namespace mmguard {
namespace {

const char* kKunitRun =
    "[    0.500000] Linux version 6.12.117 (mmguard@mmguard) #1 SMP\n"
    "[    0.900000] KTAP version 1\n"
    "[    0.900001] 1..1\n"
    "[    0.900002]     KTAP version 1\n"
    "[    0.900003]     # Subtest: demo\n"
    "[    0.900004]     1..2\n"
    "[    0.900005]     ok 1 first\n"
    "[    0.900006]     ok 2 second\n"
    "[    0.900007] ok 1 demo\n";

TEST(ConsoleSession, LinesSplitAcrossChunksAreReassembled) {
    ConsoleSession s("", 1 << 20);
    std::string all = std::string(kKunitRun) + "mmguard: guest done\n";
    for (std::size_t i = 0; i < all.size(); i += 7) s.feed(std::string_view(all).substr(i, 7));
    s.finish(EndReason::EndOfOutput);
    EXPECT_TRUE(s.done_marker_seen());
    EXPECT_EQ(s.kernel_release(), "6.12.117");
    ASSERT_EQ(s.results().size(), 1u);
    EXPECT_EQ(s.results()[0].name, "demo");
    EXPECT_EQ(s.results()[0].status, TestStatus::Pass);
    ASSERT_TRUE(s.last_result_time().has_value());
    EXPECT_DOUBLE_EQ(*s.last_result_time(), 0.900007);
}

TEST(ConsoleSession, UnterminatedLastLineIsStillRead) {
    ConsoleSession s("", 1 << 20);
    s.feed(kKunitRun);
    s.feed("mmguard: guest done");
    s.finish(EndReason::EndOfOutput);
    EXPECT_TRUE(s.done_marker_seen());
}

TEST(ConsoleSession, FloodIsCappedInTheLogAndFlagged) {
    auto log = fs::temp_directory_path() / ("mmguard-flood-" + std::to_string(::getpid()));
    {
        ConsoleSession s(log.string(), 4096);
        std::string line(100, 'x');
        line += '\n';
        for (int i = 0; i < 1000; ++i) s.feed(line);
        EXPECT_TRUE(s.flooded());
        EXPECT_EQ(s.bytes(), 101000u);
        EXPECT_EQ(s.lines(), 1000u);
    }
    EXPECT_LT(fs::file_size(log), 4096u + 200u);
    fs::remove(log);
}

TEST(ConsoleSession, EndlessLineKeepsMemoryBounded) {
    ConsoleSession s("", 1 << 30);
    std::string chunk(1 << 16, 'y');
    for (int i = 0; i < 64; ++i) s.feed(chunk);  // 4 MiB without a newline
    s.feed("\n");
    s.finish(EndReason::EndOfOutput);
    EXPECT_EQ(s.lines(), 1u);
}

TEST(ConsoleSession, BinaryGarbageDoesNotCrashOrMakeResults) {
    ConsoleSession s("", 1 << 20);
    std::string junk;
    for (int i = 0; i < 200000; ++i) junk.push_back(static_cast<char>((i * 7919) % 256));
    s.feed(junk);
    s.finish(EndReason::EndOfOutput);
    EXPECT_TRUE(s.results().empty());
    EXPECT_FALSE(s.done_marker_seen());
}

}  // namespace
}  // namespace mmguard
