// What a stress session's console gives: the tests of stress_stats.cpp and
// of the stress-ng lines feed the same way.
#pragma once
#include <string>

#include "console_session.h"
#include "stress_stats.h"

namespace mmguard::testing {

// The stress figures of a whole console that ends normally.
inline StressStats stress_of(const std::string& console) {
    ConsoleSession session("", 1u << 20);
    session.feed(console);
    session.finish(EndReason::EndOfOutput);
    return session.stress();
}

}  // namespace mmguard::testing
