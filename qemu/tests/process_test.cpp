#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "process.h"
#include "workspace.h"

namespace mmguard {
namespace {

TEST(Process, CapturesOutputAndExitCode) {
    ProcessSpec s;
    s.argv = {"sh", "-c", "echo hello; echo world"};
    EXPECT_EQ(run_capture(s, "echo"), "hello\nworld\n");
    s.argv = {"sh", "-c", "echo oops; exit 3"};
    EXPECT_THROW(run_capture(s, "failing"), HarnessError);
}

TEST(Process, MissingProgramIsAClearError) {
    ProcessSpec s;
    s.argv = {"mmguard-no-such-program"};
    try {
        Child c(s);
        FAIL() << "expected HarnessError";
    } catch (const HarnessError& e) {
        EXPECT_NE(std::string(e.what()).find("mmguard-no-such-program"), std::string::npos);
    }
}

TEST(Process, TerminateKillsTheWholeGroupAndReaps) {
    auto pidfile = fs::temp_directory_path() / ("mmguard-grandchild-" + std::to_string(::getpid()));
    ProcessSpec s;
    // The grandchild ignores SIGTERM: only the group SIGKILL stops it.
    s.argv = {"sh", "-c", "sh -c 'trap \"\" TERM; echo $$ > " + pidfile.string() + "; while :; do sleep 1; done' & wait"};
    Child c(s);
    pid_t grandchild = 0;
    for (int i = 0; i < 200 && grandchild == 0; ++i) {
        std::ifstream(pidfile) >> grandchild;
        if (grandchild == 0) usleep(10000);
    }
    ASSERT_GT(grandchild, 0);
    c.terminate(std::chrono::milliseconds(200));
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
        gone = ::kill(grandchild, 0) != 0;
        if (!gone) usleep(10000);
    }
    EXPECT_TRUE(gone);
    fs::remove(pidfile);
}

TEST(Process, RunLoggedHandsEveryLineOnAndLogsThem) {
    auto log = fs::temp_directory_path() / ("mmguard-log-" + std::to_string(::getpid()));
    ProcessSpec s;
    s.argv = {"sh", "-c", "echo a; echo b >&2; exit 2"};
    std::vector<std::string> lines;
    EXPECT_EQ(run_logged(s, log.string(), [&](std::string_view l) { lines.emplace_back(l); }), 2);
    EXPECT_EQ(lines, (std::vector<std::string>{"a", "b"}));
    fs::remove(log);
}

TEST(Process, ExitCodeOfSignal) {
    ProcessSpec s;
    s.argv = {"sh", "-c", "kill -9 $$"};
    Child c(s);
    EXPECT_EQ(exit_code_of(c.wait()), 128 + 9);
}

}  // namespace
}  // namespace mmguard
