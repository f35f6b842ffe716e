// `--repeat N`: the same boot N times, and how often each test passed.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "qemu_boot.h"

namespace mmguard {

struct TestTally {
    int passed = 0, skipped = 0, failed = 0;   // failed: failed, crashed, not run or error
    int runs() const { return passed + skipped + failed; }
    // Passed in some boots and failed in others.
    bool flaky() const { return passed > 0 && failed > 0; }
};

// Adds one boot's leaf tests ("suite.case", or the suite alone when it has
// no cases) to `tally`.
void tally_boot(const BootResult& boot, std::map<std::string, TestTally>& tally);

// "| test | passed | skipped | failed | of |" rows, flaky ones marked.
std::string tally_markdown(const std::map<std::string, TestTally>& tally, int boots);

}  // namespace mmguard
