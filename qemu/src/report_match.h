// Which kernel reports a regular expression names, and waiting for them: the
// proof's judge asks whether a boot showed a report, and a boot that exists
// only to show some reports can end as soon as it has shown them all.
#pragma once
#include <string>
#include <vector>

#include "kernel_report.h"

namespace mmguard {

// Whether the RE2 `pattern` matches somewhere in `text` (patterns are
// compiled once). Throws HarnessError on a pattern RE2 does not take.
bool pattern_matches(const std::string& text, const std::string& pattern);

// Whether the report's title, an alternative title or its signature matches
// the RE2 `pattern` (anywhere in it; anchor with ^ and $). Throws
// HarnessError on a pattern RE2 does not take.
bool report_matches(const KernelReport& report, const std::string& pattern);

// Sees a boot's complete reports one by one and says when every one of its
// patterns has matched at least one of them.
class ReportWaiter {
public:
    explicit ReportWaiter(std::vector<std::string> patterns);
    void see(const KernelReport& report);
    // False while a pattern has matched nothing; always false with no pattern
    // (nothing to wait for is not the same as having seen it).
    bool satisfied() const;

private:
    std::vector<std::string> patterns_;
    std::vector<bool> matched_;
};

}  // namespace mmguard
