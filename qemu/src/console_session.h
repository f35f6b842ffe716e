// Everything read from one guest console: raw bytes in; the log file, the
// KTAP results and the kernel reports out. Used live (boot) and offline
// (parse of a saved console.log), so both judge a console the same way.
#pragma once

#include <cstddef>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kernel_report.h"
#include "ktap_parser.h"
#include "stress_stats.h"

namespace mmguard {

// Printed by the guest's init when every step has run, just before reboot.
inline constexpr std::string_view kDoneMarker = "mmguard: guest done";

class ConsoleSession {
public:
    // `log_path` may be empty (no log). At most `log_cap` bytes are written
    // to it; past that the session counts as flooding.
    ConsoleSession(const std::string& log_path, std::size_t log_cap);

    void on_top_level_result(KtapParser::ResultCallback cb) { parser_.on_top_level_result(std::move(cb)); }
    void on_report(std::function<void(const KernelReport&)> cb) { report_cb_ = std::move(cb); }

    // Feeds raw console bytes (any chunking).
    void feed(std::string_view bytes);
    // End of console; flushes a partial line and closes open tests.
    void finish(EndReason reason);

    bool done_marker_seen() const { return done_seen_; }
    bool panicked() const { return detector_.saw_panic(); }
    bool flooded() const { return logged_ >= cap_; }
    std::size_t lines() const { return line_no_; }
    std::size_t bytes() const { return total_bytes_; }
    const std::string& kernel_release() const { return release_; }
    // printk time of the last KTAP result line that carried one (KUnit's).
    std::optional<double> last_result_time() const { return last_result_; }

    const std::vector<TestResult>& results() const { return parser_.results(); }
    const std::vector<KernelReport>& reports() const { return detector_.reports(); }
    std::vector<ReportGroup> report_groups() const { return detector_.groups(); }
    // The trinity session, if the guest ran one.
    StressStats stress() const { return stress_.stats(); }

private:
    void handle_line(std::string_view raw);

    KtapParser parser_;
    ReportDetector detector_;
    StressTracker stress_;
    std::function<void(const KernelReport&)> report_cb_;
    std::size_t reports_seen_ = 0;
    std::ofstream log_;
    std::size_t cap_;
    std::size_t logged_ = 0;
    std::size_t total_bytes_ = 0;
    std::size_t line_no_ = 0;
    std::string partial_;
    bool done_seen_ = false;
    std::string release_;
    std::optional<double> last_result_;
};

}  // namespace mmguard
