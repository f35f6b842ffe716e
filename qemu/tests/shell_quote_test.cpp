// Words that reach the guest's shell must arrive as written: checked by
// giving the quoted text to /bin/sh, the way the guest sources its plan and
// expands TRINITY_ARGS inside `su -c "..."`.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "shell_quote.h"

namespace mmguard {
namespace {

std::string run_sh(const std::string& script) {
    namespace fs = std::filesystem;
    fs::path file = fs::temp_directory_path() / ("mmguard-sh-" + std::to_string(::getpid()));
    std::ofstream(file) << script;
    std::string out;
    if (FILE* p = ::popen(("/bin/sh " + file.string() + " 2>&1").c_str(), "r")) {
        char buf[512];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        ::pclose(p);
    }
    fs::remove(file);
    return out;
}

const char* const kHostile[] = {"a;b", "$(echo pwned)", "`echo pwned`", "it's", "\"dq\"", "x\ny", "$HOME", "\\", "*"};

TEST(ShellQuote, EveryHostileWordSurvivesOneShell) {
    for (const char* word : kHostile) {
        std::string got = run_sh("v=" + shell_quote(word) + "\nprintf '%s' \"$v\"\n");
        EXPECT_EQ(got, word) << shell_quote(word);
    }
}

TEST(ShellQuote, TrinityArgsSurviveThePlanFileAndTheSecondShell) {
    std::string user_args = "-c mmap ; touch /tmp/pwned\n$(reboot) 'q\" `id`";
    auto words = split_words(user_args);
    ASSERT_EQ(words.size(), 8u);
    // As initramfs.cpp writes the plan, and trinity-session.sh expands it in `sh -c "..."`.
    std::string plan = "TRINITY_ARGS=" + shell_quote(shell_quote_words(words)) + "\n";
    std::string got = run_sh(plan + "sh -c \"for a in x $TRINITY_ARGS; do printf '[%s]' \\\"\\$a\\\"; done\"\n");
    EXPECT_EQ(got, "[x][-c][mmap][;][touch][/tmp/pwned][$(reboot)]['q\"][`id`]");
}

TEST(ShellQuote, SplitWordsIgnoresRunsOfBlanks) {
    EXPECT_EQ(split_words("  -a\t\t-b \n"), (std::vector<std::string>{"-a", "-b"}));
    EXPECT_TRUE(split_words(" \n ").empty());
}

}  // namespace
}  // namespace mmguard
