// Detects kernel reports (BUG, WARNING, Oops, panic...) on the console and
// gives each a stable signature.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "console_line.h"

namespace mmguard {

// Bounds that keep memory flat on a flooding or garbage console.
inline constexpr std::size_t kMaxReportContextLines = 300;  // lines kept per report
inline constexpr std::size_t kMaxStoredReports = 1000;      // reports kept with context
inline constexpr std::size_t kMaxDroppedSignatures = 1000;  // distinct signatures counted
                                                            // past kMaxStoredReports

struct KernelReport {
    std::string kind;       // "BUG", "kernel BUG", "WARNING", "Oops",
                            // "general protection fault", "page dump", "KASAN",
                            // "KFENCE", "UBSAN", "soft lockup", "hard lockup",
                            // "hung task", "RCU stall", "panic"
    std::string message;    // normalised message: numbers/addresses replaced
    std::string function;   // first meaningful function, "" if none found
    std::string file;       // source file if the report names one, no line number
    std::string signature;  // kind + message + function, stable across runs
    std::string title;      // syzkaller-style title ("kernel BUG in F"), see report_title.h
    std::vector<std::string> alt_titles;  // the same title naming the next frames
    std::size_t first_line = 0;   // console line numbers of the report
    std::size_t last_line = 0;
    std::optional<double> timestamp;
    bool fatal = false;     // the kernel will not continue (panic)
    std::vector<std::string> context;  // the report's lines (bounded)
};

// Reports sharing a title; every distinct signature under it is listed.
struct ReportGroup {
    KernelReport first;   // the first occurrence, with its context
    std::size_t count = 0;
    std::vector<std::string> signatures;  // in order of first appearance
};

// Streaming detector: feed every console line; completed reports are
// collected in order. One crash often yields several reports (a page dump, a
// BUG); each is kept, deduplication is by title. A panic that is the
// consequence of the report before it ("Fatal exception", "panic_on_warn
// set") is folded into that report (which becomes fatal), not kept apart.
class ReportDetector {
public:
    ReportDetector();
    ~ReportDetector();
    ReportDetector(const ReportDetector&) = delete;
    ReportDetector& operator=(const ReportDetector&) = delete;

    void feed(const ConsoleLine& line);
    void finish();  // closes a report still being read at end of output

    // The first kMaxStoredReports reports (plus a few panic reports past
    // that), each with its context.
    const std::vector<KernelReport>& reports() const;
    bool saw_panic() const;

    // Reports past the storage cap are not stored, only counted (per
    // signature, for up to kMaxDroppedSignatures distinct signatures).
    std::size_t dropped_reports() const;
    // deduplicate(reports()) plus the counts of the dropped reports; a
    // signature seen only past the cap gets a group without context.
    std::vector<ReportGroup> groups() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Groups reports by title, in order of first appearance.
std::vector<ReportGroup> deduplicate(const std::vector<KernelReport>& reports);

// Replaces numbers and addresses in a message with "N" (decimal and hex runs,
// 0x..., long hex words) but leaves digits inside identifiers ("ext4_foo",
// "x86_64"); collapses blanks.
std::string normalise_message(std::string_view text);

// "foo.isra.0+0x1a/0x40 [mod]" -> "foo".
std::string normalise_function(std::string_view symbol);

// "../src/mm/page_alloc.c" -> "mm/page_alloc.c": the path from the tree's top.
std::string normalise_source_path(std::string_view path);

}  // namespace mmguard
