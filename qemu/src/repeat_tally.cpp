#include "repeat_tally.h"

#include <fmt/format.h>

namespace mmguard {
namespace {

void add(const TestResult& t, const std::string& prefix, std::map<std::string, TestTally>& tally) {
    std::string name = prefix.empty() ? t.name : prefix + "." + t.name;
    if (!t.subtests.empty()) {
        for (const auto& s : t.subtests) add(s, name, tally);
        return;
    }
    TestTally& x = tally[name];
    if (t.status == TestStatus::Pass) ++x.passed;
    else if (t.status == TestStatus::Skip) ++x.skipped;
    else ++x.failed;
}

}  // namespace

void tally_boot(const BootResult& boot, std::map<std::string, TestTally>& tally) {
    for (const auto& t : boot.tests) add(t, "", tally);
}

std::string tally_markdown(const std::map<std::string, TestTally>& tally, int boots) {
    std::string md = "| test | passed | skipped | failed | boots it ran in | |\n| ---- | ------ | ------- | ------ | --------------- | - |\n";
    for (const auto& [name, x] : tally)
        md += fmt::format("| {} | {} | {} | {} | {} of {} | {} |\n", name, x.passed, x.skipped, x.failed, x.runs(), boots,
                          x.flaky() ? "FLAKY" : x.runs() < boots ? "MISSING in some boots" : "");
    return md;
}

}  // namespace mmguard
