// Progress on the terminal: one line per stage with its elapsed time, and a
// live status line for long steps (rewritten in place on a terminal, printed
// every 30 s otherwise, e.g. in CI logs).
#pragma once

#include <chrono>
#include <string>

namespace mmguard {

// Prints "==> name: detail" on construction and "    done in 12.3s" (or
// "    failed after 12.3s" while unwinding) on destruction.
class Stage {
public:
    Stage(std::string name, std::string detail);
    ~Stage();
    Stage(const Stage&) = delete;
    Stage& operator=(const Stage&) = delete;

    double elapsed() const;

private:
    std::string name_;
    std::chrono::steady_clock::time_point start_;
    int uncaught_;
};

class StatusLine {
public:
    explicit StatusLine(std::string prefix);
    ~StatusLine();  // ends the line
    // Shows `text` (rate limited: at most a few per second on a terminal).
    void update(const std::string& text, bool force = false);

private:
    std::string prefix_;
    bool tty_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

std::string format_duration(double seconds);

}  // namespace mmguard
