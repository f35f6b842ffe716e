#include "mutant_operators.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>
#include <re2/re2.h>

namespace mmguard {
namespace {

bool ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string indent_of(const std::string& line) {
    return line.substr(0, line.find_first_not_of(" \t") == std::string::npos ? line.size()
                                                                               : line.find_first_not_of(" \t"));
}

std::string trimmed(const std::string& line) {
    auto b = line.find_first_not_of(" \t");
    if (b == std::string::npos) return "";
    auto e = line.find_last_not_of(" \t\r");
    return line.substr(b, e - b + 1);
}

// One flag per character: true where the character is code (not inside a
// string or character literal, not in a comment).
std::vector<bool> code_mask(const std::string& s) {
    std::vector<bool> m(s.size(), true);
    char quote = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (quote) {
            m[i] = false;
            if (s[i] == '\\') {
                if (i + 1 < s.size()) m[++i] = false;
            } else if (s[i] == quote) {
                quote = 0;
            }
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = s[i];
            m[i] = false;
        } else if (s.compare(i, 2, "/*") == 0 || s.compare(i, 2, "//") == 0) {
            auto end = s[i + 1] == '*' ? s.find("*/", i + 2) : std::string::npos;
            std::size_t stop = end == std::string::npos ? s.size() : end + 2;
            for (std::size_t k = i; k < stop; ++k) m[k] = false;
            i = stop - 1;
        }
    }
    return m;
}

int paren_balance(const std::string& s) {
    auto m = code_mask(s);
    int b = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (!m[i]) continue;
        if (s[i] == '(') ++b;
        if (s[i] == ')') --b;
    }
    return b;
}

bool starts_with_word(const std::string& t, const char* w) {
    std::size_t n = std::char_traits<char>::length(w);
    return t.compare(0, n, w) == 0 && (t.size() == n || !ident(t[n]));
}

struct LockPair {
    const char* lock;
    const char* unlock;
};
const LockPair kLocks[] = {
    {"spin_lock", "spin_unlock"},
    {"spin_lock_irq", "spin_unlock_irq"},
    {"spin_lock_irqsave", "spin_unlock_irqrestore"},
    {"spin_lock_bh", "spin_unlock_bh"},
    {"raw_spin_lock", "raw_spin_unlock"},
    {"raw_spin_lock_irqsave", "raw_spin_unlock_irqrestore"},
    {"mutex_lock", "mutex_unlock"},
    {"local_lock_irqsave", "local_unlock_irqrestore"},
    {"rcu_read_lock", "rcu_read_unlock"},
};

}  // namespace

const std::vector<std::string>& operator_names() {
    static const std::vector<std::string> names = {"delete_state", "negate_cond", "relax_cmp",
                                                   "off_by_one",   "swap_migratetype", "drop_lock"};
    return names;
}

std::vector<std::string> mutate_delete_state(const std::string& line) {
    std::string t = trimmed(line);
    if (t.empty() || t.back() != ';' || paren_balance(t) != 0) return {};
    for (const char* w : {"return", "if", "for", "while", "else", "case", "default", "goto", "break", "continue",
                          "do", "struct", "unsigned", "int", "long", "bool", "const", "enum", "static", "u8", "u16",
                          "u32", "u64", "char", "void", "union", "switch"})
        if (starts_with_word(t, w)) return {};
    if (t.front() == '}' || t.front() == '{') return {};
    static const RE2 compound(R"(^[A-Za-z_(*][^=;]*?(\+=|-=|\|=|&=|\^=|<<=|>>=))");
    static const RE2 incdec(R"(^(\+\+|--)?[A-Za-z_][\w.\->\[\]]*(\+\+|--)?;$)");
    static const RE2 member_assign(R"(^[A-Za-z_][\w\[\]]*(->|\.)[\w.\->\[\]]*\s*=[^=])");
    static const RE2 call(
        R"(^(__)?(mod_zone_page_state|mod_node_page_state|mod_zone_freepage_state|account_freepages|)"
        R"(list_move\w*|list_del\w*|list_add\w*|list_splice\w*|set_pageblock_migratetype|)"
        R"(__?add_to_free_list|add_to_free_list|__?del_page_from_free_list|del_page_from_free_list|)"
        R"(move_to_free_list|set_buddy_order|set_page_private|atomic\w*_(inc|dec|add|sub)\w*|)"
        R"(_?_?ClearPage\w+|_?_?SetPage\w+|_?_?folio_clear_\w+|_?_?folio_set_\w+|inc_\w+|dec_\w+|)"
        R"(__inc_\w+|__dec_\w+|__?count_vm_events?|count_vm_events?|WRITE_ONCE|__?mod_\w+|)"
        R"(clear_\w+|set_\w+|page_mapcount_reset|folio_add_\w+|folio_sub_\w+|put_page|folio_put)\s*\()");
    bool is_incdec = (t.find("++") != std::string::npos || t.find("--") != std::string::npos) &&
                     RE2::FullMatch(t, incdec);
    if (!(RE2::PartialMatch(t, compound) || is_incdec || RE2::PartialMatch(t, member_assign) ||
          RE2::PartialMatch(t, call)))
        return {};
    return {indent_of(line) + ";"};
}

std::vector<std::string> mutate_negate_cond(const std::string& line) {
    auto m = code_mask(line);
    std::size_t at = line.find("if (");
    if (at == std::string::npos || !m[at] || (at > 0 && ident(line[at - 1]))) return {};
    std::string t = trimmed(line);
    if (!(t.rfind("if (", 0) == 0 || t.rfind("} else if (", 0) == 0 || t.rfind("else if (", 0) == 0)) return {};
    std::size_t open = at + 3;
    int depth = 0;
    for (std::size_t i = open; i < line.size(); ++i) {
        if (!m[i]) continue;
        if (line[i] == '(') ++depth;
        if (line[i] == ')' && --depth == 0) {
            std::string cond = line.substr(open + 1, i - open - 1);
            return {line.substr(0, open) + "(!(" + cond + "))" + line.substr(i + 1)};
        }
    }
    return {};  // the condition goes on: left alone
}

std::vector<std::string> mutate_relax_cmp(const std::string& line) {
    std::vector<std::string> out;
    auto m = code_mask(line);
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (!m[i]) continue;
        char c = line[i];
        if (c != '<' && c != '>') continue;
        char next = i + 1 < line.size() ? line[i + 1] : 0;
        char prev = i > 0 ? line[i - 1] : 0;
        if (c == '>' && prev == '-') continue;        // ->
        if (next == c) {                              // << >> <<= >>=
            i += (i + 2 < line.size() && line[i + 2] == '=') ? 2 : 1;
            continue;
        }
        if (next == '=')
            out.push_back(line.substr(0, i + 1) + line.substr(i + 2));   // <= -> <
        else
            out.push_back(line.substr(0, i + 1) + "=" + line.substr(i + 1));   // < -> <=
    }
    return out;
}

std::vector<std::string> mutate_off_by_one(const std::string& line) {
    std::vector<std::string> out;
    auto m = code_mask(line);
    // "+ 1" / "- 1" (a whole literal 1) dropped.
    for (std::size_t i = 0; i + 3 <= line.size(); ++i) {
        if (i == 0 || !m[i] || (line[i] != '+' && line[i] != '-')) continue;
        if (i > 0 && (line[i - 1] == '+' || line[i - 1] == '-' || line[i - 1] != ' ')) continue;
        if (line.compare(i + 1, 2, " 1") != 0) continue;
        std::size_t after = i + 3;
        if (after < line.size() && (ident(line[after]) || line[after] == '.')) continue;
        out.push_back(line.substr(0, i - 1) + line.substr(after));
    }
    // "<< X" / ">> X" -> "<< (X - 1)"
    static const RE2 operand(R"(^\s*([A-Za-z_]\w*(?:(?:->|\.)[A-Za-z_]\w*)*))");
    for (std::size_t i = 0; i + 2 < line.size(); ++i) {
        if (!m[i] || !((line[i] == '<' && line[i + 1] == '<') || (line[i] == '>' && line[i + 1] == '>'))) continue;
        if (line[i + 2] == '=' || (i > 0 && line[i - 1] == '-')) {
            ++i;
            continue;
        }
        std::string_view rest(line.data() + i + 2, line.size() - i - 2);
        std::string x;
        re2::StringPiece sp(rest.data(), rest.size());
        if (RE2::PartialMatch(sp, operand, &x)) {
            std::size_t xs = line.find(x, i + 2);
            std::size_t xe = xs + x.size();
            if (xe < line.size() && line[xe] == '(') {  // a call: leave it
                ++i;
                continue;
            }
            out.push_back(line.substr(0, xs) + "(" + x + " - 1)" + line.substr(xe));
        }
        ++i;
    }
    return out;
}

std::vector<std::string> mutate_swap_migratetype(const std::string& line) {
    static const std::map<std::string, std::string> swap = {
        {"MIGRATE_MOVABLE", "MIGRATE_UNMOVABLE"}, {"MIGRATE_UNMOVABLE", "MIGRATE_MOVABLE"},
        {"MIGRATE_RECLAIMABLE", "MIGRATE_UNMOVABLE"}, {"MIGRATE_CMA", "MIGRATE_MOVABLE"},
        {"MIGRATE_HIGHATOMIC", "MIGRATE_MOVABLE"}, {"MIGRATE_ISOLATE", "MIGRATE_MOVABLE"},
    };
    std::vector<std::string> out;
    auto m = code_mask(line);
    for (std::size_t i = line.find("MIGRATE_"); i != std::string::npos; i = line.find("MIGRATE_", i + 1)) {
        if (!m[i] || (i > 0 && ident(line[i - 1]))) continue;
        std::size_t e = i;
        while (e < line.size() && ident(line[e])) ++e;
        auto it = swap.find(line.substr(i, e - i));
        if (it == swap.end()) continue;
        out.push_back(line.substr(0, i) + it->second + line.substr(e));
    }
    return out;
}

std::vector<Mutant> generate_mutants(const std::string& file, const std::vector<std::string>& lines,
                                     const std::string& function) {
    FunctionBody body = locate_function(lines, function);
    auto skip = skipped_lines(lines, body);
    std::vector<Mutant> out;
    auto add = [&](const std::string& op, std::size_t line, int variant, std::vector<LineEdit> edits) {
        Mutant mu;
        mu.file = file;
        mu.function = function;
        mu.op = op;
        mu.line = line + 1;
        mu.variant = variant;
        mu.id = fmt::format("{}:{}:{}:{}:{}", file, function, op, line + 1, variant);
        mu.description = fmt::format("{} -> {}", trimmed(lines[edits.front().line]),
                                     trimmed(edits.front().text) == ";" ? std::string("(deleted)")
                                                                        : trimmed(edits.front().text));
        if (edits.size() > 1) mu.description += fmt::format(" (+{} more line(s))", edits.size() - 1);
        mu.edits = std::move(edits);
        out.push_back(std::move(mu));
    };
    using Op = std::vector<std::string> (*)(const std::string&);
    const std::pair<const char*, Op> single[] = {
        {"delete_state", mutate_delete_state}, {"negate_cond", mutate_negate_cond},
        {"relax_cmp", mutate_relax_cmp},       {"off_by_one", mutate_off_by_one},
        {"swap_migratetype", mutate_swap_migratetype},
    };
    // drop_lock: every lock and unlock of one lock expression, when they pair up.
    struct LockUse {
        std::vector<std::size_t> locks, unlocks;
        bool any_skipped = false;
    };
    std::map<std::string, LockUse> locks;  // "spin_lock|&zone->lock"
    static const RE2 lock_call(R"(^\s*(\w+)\(([^,()]*(?:\([^()]*\))?[^,()]*)(?:,[^;]*)?\);\s*$)");
    for (std::size_t i = body.open + 1; i < body.close; ++i) {
        std::string fn, arg;
        if (RE2::FullMatch(lines[i], lock_call, &fn, &arg)) {
            for (const auto& p : kLocks) {
                if (fn == p.lock || fn == p.unlock) {
                    auto& use = locks[std::string(p.lock) + "|" + arg];
                    (fn == p.lock ? use.locks : use.unlocks).push_back(i);
                    if (skip[i]) use.any_skipped = true;
                }
            }
        }
        if (skip[i]) continue;
        for (const auto& [name, op] : single) {
            auto variants = op(lines[i]);
            for (std::size_t v = 0; v < variants.size(); ++v)
                if (variants[v] != lines[i]) add(name, i, static_cast<int>(v), {{i, variants[v]}});
        }
    }
    for (const auto& [key, use] : locks) {
        if (use.any_skipped || use.locks.empty() || use.locks.size() != use.unlocks.size()) continue;
        std::vector<LineEdit> edits;
        for (auto i : use.locks) edits.push_back({i, indent_of(lines[i]) + ";"});
        for (auto i : use.unlocks) edits.push_back({i, indent_of(lines[i]) + ";"});
        std::sort(edits.begin(), edits.end(), [](const LineEdit& a, const LineEdit& b) { return a.line < b.line; });
        add("drop_lock", use.locks.front(), 0, std::move(edits));
    }
    std::stable_sort(out.begin(), out.end(), [](const Mutant& a, const Mutant& b) { return a.line < b.line; });
    return out;
}

}  // namespace mmguard
