// The golden console corpus: every file under testdata/consoles/ is a console
// with a header giving the verdict the judge must reach. Header lines:
//   SOURCE: real: <where it came from> | crafted: <what it imitates>
//   TITLE: the first unique report's title     ALT: its alternative titles
//   TYPE: that report's kind                   REPORTS: unique reports (by title)
//   KTAP: <suite> <status>  (one per top-level test)
//   CORRUPTED: yes   (the last report is cut by the end of output)
// then a blank line and the console text. MMGUARD_UPDATE_GOLDEN=1 rewrites
// the headers (SOURCE kept) from what the judge now says, for review.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_paths.h"
#include "console_session.h"
#include "kernel_report.h"

namespace mmguard {
namespace {

namespace fs = std::filesystem;

struct Case {
    std::vector<std::string> source;  // SOURCE lines, kept on update
    std::vector<std::string> header;  // the judged lines
    std::string console;
};

Case read_case(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    Case c;
    std::string line;
    while (std::getline(in, line) && !line.empty()) {
        if (line.rfind("SOURCE:", 0) == 0)
            c.source.push_back(line);
        else
            c.header.push_back(line);
    }
    std::ostringstream rest;
    rest << in.rdbuf();
    c.console = rest.str();
    return c;
}

bool cut_by_end_of_output(const KernelReport& r, std::size_t console_lines) {
    if (r.last_line < console_lines) return false;
    for (const auto& l : r.context)
        if (l.find("---[ end ") != std::string::npos) return false;
    return true;
}

std::vector<std::string> judge(const std::string& console) {
    ConsoleSession session("", 1 << 30);
    session.feed(console);
    session.finish(session.panicked() ? EndReason::KernelCrash : EndReason::EndOfOutput);
    std::vector<std::string> out;
    auto groups = session.report_groups();
    if (!groups.empty()) {
        const KernelReport& first = groups.front().first;
        out.push_back("TITLE: " + first.title);
        for (const auto& alt : first.alt_titles) out.push_back("ALT: " + alt);
        out.push_back("TYPE: " + first.kind);
    }
    out.push_back("REPORTS: " + std::to_string(groups.size()));
    for (const auto& t : session.results())
        out.push_back("KTAP: " + t.name + " " + to_string(t.status));
    const auto& reports = session.reports();
    if (!reports.empty() && cut_by_end_of_output(reports.back(), session.lines()))
        out.push_back("CORRUPTED: yes");
    return out;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += "  " + l + "\n";
    return s;
}

std::vector<fs::path> corpus() {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(testing::consoles_dir()))
        if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

TEST(ConsoleCorpus, EveryCaseIsJudgedAsItsHeaderSays) {
    const bool update = std::getenv("MMGUARD_UPDATE_GOLDEN") != nullptr;
    auto files = corpus();
    EXPECT_GE(files.size(), 150u);
    for (const auto& path : files) {
        Case c = read_case(path);
        EXPECT_FALSE(c.source.empty()) << path << ": no SOURCE line";
        std::vector<std::string> got = judge(c.console);
        if (got == c.header) continue;
        if (update) {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            for (const auto& l : c.source) out << l << "\n";
            for (const auto& l : got) out << l << "\n";
            out << "\n" << c.console;
            continue;
        }
        ADD_FAILURE() << path.filename().string() << "\nexpected:\n"
                      << joined(c.header) << "got:\n" << joined(got);
    }
}

}  // namespace
}  // namespace mmguard
