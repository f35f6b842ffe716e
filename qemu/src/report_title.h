// Titles in syzkaller's conventions ("kernel BUG in F", "possible deadlock in
// F", ...) for detected kernel reports, so a title can be looked up on
// syzbot's dashboard and with `git log --grep`. The title rules are a table
// (report_title.cpp); the code only picks the frame that names the crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mmguard {

struct ReportTitles {
    std::string title;                    // e.g. "WARNING: refcount bug in put_page"
    std::vector<std::string> alt_titles;  // the same form naming the next frames
};

// kind, message: as in KernelReport. candidates: functions that may name the
// report, best first (RIP, the title line's own function, then the reliable
// frames of the call trace). context: the report's lines (for KASAN's
// access type). Reporting machinery is skipped as for the signature, plus
// the helpers that only report on behalf of their caller (refcount_*,
// list_debug, allocators under a leak).
ReportTitles make_titles(std::string_view kind, std::string_view message,
                         const std::vector<std::string>& candidates,
                         const std::vector<std::string>& context);

// A panic whose message says it is the consequence of the report before it
// ("Fatal exception", "Attempted to kill init!", "panic_on_warn set ...").
bool is_consequence_panic(std::string_view panic_message);

}  // namespace mmguard
