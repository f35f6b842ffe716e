#include "build_diagnostics.h"

#include <fnmatch.h>

#include <map>
#include <sstream>

#include <re2/re2.h>

#include "kernel_report.h"

namespace mmguard {

std::vector<std::string> build_diagnostics(const std::string& output) {
    // gcc: "../src/mm/page_alloc.c:123:45: warning: text [-Wflag]";
    // sparse: "../src/mm/page_alloc.c:123:45: warning: text" (and "error:").
    static const RE2 diag_re(R"(^(\S+?\.[chS]):\d+(?::\d+)?: (warning|error): (.*)$)");
    std::vector<std::string> found;
    std::istringstream in(output);
    std::string line, file, level, message;
    while (std::getline(in, line))
        if (RE2::FullMatch(line, diag_re, &file, &level, &message))
            found.push_back(normalise_source_path(file) + ": " + level + ": " + message);
    return found;
}

std::vector<std::string> new_diagnostics(const std::vector<std::string>& base,
                                         const std::vector<std::string>& patched) {
    std::map<std::string, int> left;
    for (const auto& d : base) ++left[d];
    std::vector<std::string> added;
    for (const auto& d : patched) {
        auto it = left.find(d);
        if (it != left.end() && it->second > 0) --it->second;
        else added.push_back(d);
    }
    return added;
}

std::vector<CheckpatchMessage> checkpatch_messages(const std::string& output,
                                                   const std::vector<AllowedMessage>& allowed) {
    // "FILE:LINE: LEVEL: message", or with --show-types
    // "FILE:LINE: LEVEL:TYPE: message".
    static const RE2 msg_re(R"(^(\S+?):(\d+): (ERROR|WARNING|CHECK):(?:[A-Z0-9_]+:)? (.*)$)");
    std::vector<CheckpatchMessage> messages;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        CheckpatchMessage m;
        if (!RE2::FullMatch(line, msg_re, &m.file, &m.line, &m.level, &m.message)) continue;
        for (const auto& a : allowed) {
            bool file_ok = ::fnmatch(a.file_glob.c_str(), m.file.c_str(), 0) == 0 ||
                           ::fnmatch(("*/" + a.file_glob).c_str(), m.file.c_str(), 0) == 0;
            if (file_ok && m.message.find(a.message) != std::string::npos) {
                m.allowed_because = a.why;
                break;
            }
        }
        messages.push_back(std::move(m));
    }
    return messages;
}

}  // namespace mmguard
