#include "report_match.h"

#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <re2/re2.h>

#include "process.h"

namespace mmguard {
namespace {

const RE2& compiled(const std::string& pattern) {
    static thread_local std::map<std::string, std::unique_ptr<RE2>> cache;
    auto& re = cache[pattern];
    if (!re) {
        auto fresh = std::make_unique<RE2>(pattern, RE2::Quiet);
        if (!fresh->ok()) throw HarnessError(fmt::format("bad regular expression /{}/: {}", pattern, fresh->error()));
        re = std::move(fresh);
    }
    return *re;
}

}  // namespace

bool pattern_matches(const std::string& text, const std::string& pattern) {
    return RE2::PartialMatch(text, compiled(pattern));
}

bool report_matches(const KernelReport& report, const std::string& pattern) {
    const RE2& re = compiled(pattern);
    if (RE2::PartialMatch(report.title, re) || RE2::PartialMatch(report.signature, re)) return true;
    return std::any_of(report.alt_titles.begin(), report.alt_titles.end(),
                       [&](const std::string& t) { return RE2::PartialMatch(t, re); });
}

ReportWaiter::ReportWaiter(std::vector<std::string> patterns)
    : patterns_(std::move(patterns)), matched_(patterns_.size(), false) {
    for (const auto& p : patterns_) compiled(p);   // a bad pattern fails before the boot, not during it
}

void ReportWaiter::see(const KernelReport& report) {
    for (std::size_t i = 0; i < patterns_.size(); ++i)
        if (!matched_[i] && report_matches(report, patterns_[i])) matched_[i] = true;
}

bool ReportWaiter::satisfied() const {
    return !patterns_.empty() && std::all_of(matched_.begin(), matched_.end(), [](bool m) { return m; });
}

}  // namespace mmguard
