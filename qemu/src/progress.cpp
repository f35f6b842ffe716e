#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <exception>

#include <fmt/format.h>

namespace mmguard {

std::string format_duration(double s) {
    if (s < 60) return fmt::format("{:.1f}s", s);
    int total = static_cast<int>(s);
    return fmt::format("{}m{:02d}s", total / 60, total % 60);
}

Stage::Stage(std::string name, std::string detail)
    : name_(std::move(name)), start_(std::chrono::steady_clock::now()),
      uncaught_(std::uncaught_exceptions()) {
    fmt::print("==> {}: {}\n", name_, detail);
    std::fflush(stdout);
}

double Stage::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

Stage::~Stage() {
    bool failing = std::uncaught_exceptions() > uncaught_;
    fmt::print("    {} {} {}\n", name_, failing ? "failed after" : "done in", format_duration(elapsed()));
    std::fflush(stdout);
}

StatusLine::StatusLine(std::string prefix)
    : prefix_(std::move(prefix)), tty_(::isatty(1) == 1),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

StatusLine::~StatusLine() {
    if (tty_ && shown_) fmt::print("\n");
    std::fflush(stdout);
}

void StatusLine::update(const std::string& text, bool force) {
    auto now = std::chrono::steady_clock::now();
    auto since = now - last_;
    if (!force && shown_ && since < (tty_ ? std::chrono::milliseconds(250) : std::chrono::seconds(30)))
        return;
    last_ = now;
    double elapsed = std::chrono::duration<double>(now - start_).count();
    auto line = fmt::format("    [{}] {} {}", format_duration(elapsed), prefix_, text);
    if (tty_) {
        if (line.size() > 110) line.resize(110);
        fmt::print("\r\033[K{}", line);
    } else {
        fmt::print("{}\n", line);
    }
    shown_ = true;
    std::fflush(stdout);
}

}  // namespace mmguard
