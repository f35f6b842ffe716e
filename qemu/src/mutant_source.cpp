#include "mutant_source.h"

#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// `name(` as a whole identifier in a line that starts in column 0 with
// something that may begin a declaration.
bool names_declarator(std::string_view line, std::string_view name) {
    if (line.empty() || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '}' || line[0] == '{' ||
        line[0] == '/' || line[0] == '*')
        return false;
    for (std::size_t at = line.find(name); at != std::string_view::npos; at = line.find(name, at + 1)) {
        if (at > 0 && is_ident_char(line[at - 1])) continue;
        std::size_t after = at + name.size();
        while (after < line.size() && line[after] == ' ') ++after;
        if (after < line.size() && line[after] == '(') return true;
    }
    return false;
}

}  // namespace

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        if (nl == std::string_view::npos) {
            lines.emplace_back(text.substr(start));
            break;
        }
        lines.emplace_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return lines;
}

std::vector<GuardedFunction> parse_guarded_functions(std::string_view text) {
    std::vector<GuardedFunction> out;
    auto lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto t = trim(lines[i]);
        if (t.empty() || t.front() == '#') continue;
        std::istringstream words{std::string(t)};
        GuardedFunction g;
        words >> g.file >> g.function >> g.topic;
        if (g.function.empty() || (g.file.find('/') == std::string::npos && g.file.find('.') == std::string::npos))
            throw HarnessError(fmt::format("guarded-functions line {}: want \"FILE FUNCTION [TOPIC]\", got \"{}\"",
                                           i + 1, t));
        for (char c : g.function)
            if (!is_ident_char(c))
                throw HarnessError(fmt::format("guarded-functions line {}: \"{}\" is not a C identifier", i + 1,
                                               g.function));
        out.push_back(std::move(g));
    }
    return out;
}

FunctionBody locate_function(const std::vector<std::string>& lines, std::string_view name) {
    std::vector<FunctionBody> found;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!names_declarator(lines[i], name)) continue;
        // Walk the declarator to the body: a ';' that ends a line first makes
        // it a prototype; a column-0 '{' opens the body.
        std::size_t j = i;
        bool prototype = false;
        for (; j < lines.size() && j < i + 20; ++j) {
            if (lines[j] == "{") break;
            auto t = trim(lines[j]);
            if (!t.empty() && t.back() == ';') {
                prototype = true;
                break;
            }
            if (!t.empty() && t.back() == '{') break;  // not kernel style: `foo(void) {`
        }
        if (prototype || j >= lines.size() || lines[j] != "{") continue;
        std::size_t k = j + 1;
        while (k < lines.size() && lines[k].rfind('}', 0) != 0) ++k;
        if (k >= lines.size()) throw HarnessError(fmt::format("function {}: no closing '}}' in column 0", name));
        found.push_back({j, k, i});
        i = k;
    }
    if (found.empty()) throw HarnessError(fmt::format("function {}: no definition found", name));
    if (found.size() > 1)
        throw HarnessError(fmt::format("function {}: {} definitions (lines {} and {}); #ifdef variants are not supported",
                                       name, found.size(), found[0].header + 1, found[1].header + 1));
    return found.front();
}

bool is_check_line(std::string_view line) {
    static const char* const words[] = {"WARN", "VM_BUG", "BUG_ON", "BUG()", "pr_warn", "pr_err", "dump_page",
                                        "DEBUG_VM", "dump_stack", "pr_info", "pr_debug"};
    for (const char* w : words)
        if (line.find(w) != std::string_view::npos) return true;
    return false;
}

std::vector<bool> skipped_lines(const std::vector<std::string>& lines, const FunctionBody& body) {
    std::vector<bool> skip(lines.size(), true);
    bool in_comment = false;
    int debug_ifdef_depth = 0;   // > 0: inside #ifdef CONFIG_DEBUG_VM
    int pp_depth = 0;            // nesting of #if inside it
    int check_block_depth = -1;  // brace depth at which a check block ends
    int depth = 0;
    for (std::size_t i = body.open; i <= body.close && i < lines.size(); ++i) {
        std::string_view raw = lines[i];
        auto t = trim(raw);
        bool code = true;
        if (in_comment) {
            code = false;
            if (t.find("*/") != std::string_view::npos) in_comment = false;
        } else if (t.rfind("/*", 0) == 0) {
            code = false;
            if (t.find("*/") == std::string_view::npos) in_comment = true;
        } else if (t.rfind("//", 0) == 0 || t.empty()) {
            code = false;
        } else if (t.front() == '#') {
            code = false;
            if (debug_ifdef_depth > 0) {
                if (t.rfind("#if", 0) == 0) ++pp_depth;
                else if (t.rfind("#endif", 0) == 0 && pp_depth-- == 0) debug_ifdef_depth = 0;
                else if ((t.rfind("#else", 0) == 0 || t.rfind("#elif", 0) == 0) && pp_depth == 0) debug_ifdef_depth = 0;
            } else if (t.find("DEBUG_VM") != std::string_view::npos && t.rfind("#if", 0) == 0) {
                debug_ifdef_depth = 1;
                pp_depth = 0;
            }
        } else if (t.find("/*") != std::string_view::npos && t.find("*/") == std::string_view::npos) {
            in_comment = true;   // code, then a comment that goes on
        }
        int before = depth;
        if (code)
            for (char c : t) {
                if (c == '{') ++depth;
                if (c == '}') --depth;
            }
        bool in_check = check_block_depth >= 0;
        if (code && !in_check && is_check_line(t) && depth > before) check_block_depth = before;
        bool skip_line = !code || debug_ifdef_depth > 0 || in_check || is_check_line(t) || i == body.open ||
                         i == body.close;
        skip[i] = skip_line;
        if (in_check && depth <= check_block_depth) check_block_depth = -1;
    }
    return skip;
}

}  // namespace mmguard
