#include "console_session.h"

#include <re2/re2.h>

namespace mmguard {

ConsoleSession::ConsoleSession(const std::string& log_path, std::size_t log_cap) : cap_(log_cap) {
    if (!log_path.empty()) log_.open(log_path, std::ios::binary | std::ios::trunc);
}

void ConsoleSession::feed(std::string_view bytes) {
    total_bytes_ += bytes.size();
    if (log_.is_open() && logged_ < cap_) {
        auto n = std::min(bytes.size(), cap_ - logged_);
        log_.write(bytes.data(), static_cast<std::streamsize>(n));
        logged_ += n;
        if (logged_ >= cap_) log_ << "\n[mmguard: console log capped here; the console was flooding]\n";
        log_.flush();
    }
    while (!bytes.empty()) {
        auto nl = bytes.find('\n');
        auto piece = bytes.substr(0, nl);
        // Keep at most one line's worth of a line that never ends.
        if (partial_.size() < kMaxLineLength) {
            partial_.append(piece.substr(0, kMaxLineLength - partial_.size()));
        }
        if (nl == std::string_view::npos) break;
        handle_line(partial_);
        partial_.clear();
        bytes.remove_prefix(nl + 1);
    }
}

void ConsoleSession::handle_line(std::string_view raw) {
    static const RE2 release_re(R"(^Linux version (\S+))");
    static const RE2 result_re(R"(^\s*(ok|not ok) \d+)");
    ConsoleLine line = split_console_line(sanitize_console_text(raw), ++line_no_);
    if (release_.empty()) RE2::PartialMatch(line.text, release_re, &release_);
    if (line.text.find(kDoneMarker) != std::string::npos) done_seen_ = true;
    if (line.timestamp && RE2::PartialMatch(line.text, result_re)) last_result_ = line.timestamp;
    parser_.feed(line);
    detector_.feed(line);
    stress_.feed(line);
    while (report_cb_ && reports_seen_ < detector_.reports().size())
        report_cb_(detector_.reports()[reports_seen_++]);
}

void ConsoleSession::finish(EndReason reason) {
    if (!partial_.empty()) {
        handle_line(partial_);
        partial_.clear();
    }
    detector_.finish();
    while (report_cb_ && reports_seen_ < detector_.reports().size())
        report_cb_(detector_.reports()[reports_seen_++]);
    parser_.finish(reason);
}

}  // namespace mmguard
