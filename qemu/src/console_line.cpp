#include "console_line.h"

#include <charconv>

namespace mmguard {

std::string sanitize_console_text(std::string_view raw) {
    std::string out;
    out.reserve(std::min(raw.size(), kMaxLineLength));
    for (char c : raw) {
        if (out.size() >= kMaxLineLength) break;
        auto u = static_cast<unsigned char>(c);
        if (c == '\r') continue;
        if (c == '\t') {
            out.push_back(' ');
        } else if (u < 0x20 || u == 0x7f || u >= 0x80) {
            // The kernel console is ASCII; anything else is line noise.
            out.push_back('?');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

ConsoleLine split_console_line(std::string_view s, std::size_t number) {
    ConsoleLine line{number, std::nullopt, std::string(s)};
    if (s.size() < 3 || s.front() != '[') return line;
    auto close = s.find(']');
    if (close == std::string_view::npos) return line;
    std::string_view inside = s.substr(1, close - 1);
    while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
    if (inside.empty()) return line;
    double value = 0;
    auto [end, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), value);
    if (ec != std::errc() || end != inside.data() + inside.size()) return line;
    if (inside.find('.') == std::string_view::npos) return line;
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    line.timestamp = value;
    line.text = std::string(rest);
    return line;
}

}  // namespace mmguard
