// `mmguard coverage` (make coverage): the coverage profile (kernel gcov for
// the guarded objects, qemu/coverage/), one boot with make run's suites, the
// .gcda files out of the guest on a second disk, and the reports in
// out/coverage/ (Documentation/coverage.md). Registered from here so main.cpp
// only constructs it and hands it the global options.
#pragma once

#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace mmguard {

struct CoverageSettings;

class CoverageCommand {
public:
    explicit CoverageCommand(CLI::App& app);   // adds the subcommand and its options
    ~CoverageCommand();
    bool parsed() const;
    // The global options: --project, --work (default PROJECT/build/coverage-work),
    // --out (reports go to OUT/coverage/), -j. Returns the exit code; throws
    // HarnessError / Interrupted like the other subcommands.
    int run(const std::string& project, const std::string& work, const std::string& out, int jobs);

private:
    CLI::App* cmd_;
    std::unique_ptr<CoverageSettings> s_;
};

}  // namespace mmguard
