// One line of the guest's serial console, as the parser and the detector see it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mmguard {

// Longest line kept; the rest of a longer line is dropped (a flooding or
// binary console must not grow memory without bound).
inline constexpr std::size_t kMaxLineLength = 4096;

struct ConsoleLine {
    std::size_t number = 0;            // 1-based line number in console.log
    std::optional<double> timestamp;   // printk time "[   12.345678]", if any
    std::string text;                  // the line with the timestamp removed
};

// Makes a raw console line printable: drops '\r', replaces other control and
// non-UTF-8-safe bytes with '?', and cuts it at kMaxLineLength.
std::string sanitize_console_text(std::string_view raw);

// Splits "[   12.345678] text" into timestamp and text. Lines without a
// printk timestamp are returned whole with no timestamp.
ConsoleLine split_console_line(std::string_view sanitized, std::size_t number);

}  // namespace mmguard
