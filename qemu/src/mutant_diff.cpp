#include "mutant_diff.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {

std::string unified_diff(const std::string& file, const std::vector<std::string>& lines,
                         const std::vector<LineEdit>& edits) {
    constexpr std::size_t kContext = 3;
    std::map<std::size_t, std::string> by_line;
    for (const auto& e : edits) {
        if (e.line >= lines.size())
            throw HarnessError(fmt::format("{}: edit at line {} past the end ({} lines)", file, e.line + 1,
                                           lines.size()));
        by_line[e.line] = e.text;
    }
    std::string out = fmt::format("diff --git a/{0} b/{0}\n--- a/{0}\n+++ b/{0}\n", file);
    auto it = by_line.begin();
    while (it != by_line.end()) {
        std::size_t start = it->first >= kContext ? it->first - kContext : 0;
        std::size_t end = std::min(lines.size(), it->first + kContext + 1);   // exclusive
        auto last = it;
        for (auto next = std::next(it); next != by_line.end() && next->first <= end + kContext; ++next) {
            last = next;
            end = std::min(lines.size(), next->first + kContext + 1);
        }
        std::size_t n = end - start;
        out += fmt::format("@@ -{},{} +{},{} @@\n", start + 1, n, start + 1, n);
        for (std::size_t i = start; i < end; ++i) {
            auto e = by_line.find(i);
            if (e == by_line.end()) {
                out += " " + lines[i] + "\n";
            } else {
                out += "-" + lines[i] + "\n";
                out += "+" + e->second + "\n";
            }
        }
        it = std::next(last);
    }
    return out;
}

std::vector<std::string> apply_edits(std::vector<std::string> lines, const std::vector<LineEdit>& edits) {
    for (const auto& e : edits)
        if (e.line < lines.size()) lines[e.line] = e.text;
    return lines;
}

}  // namespace mmguard
