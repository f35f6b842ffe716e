// The title table: the first rule whose kind matches and whose message
// pattern matches the report's message gives the title. "{f}" is the
// function naming the report, "{m}" the message, "{m1}" the message's first
// capture, "{access}" KASAN's "Read"/"Write". A title whose function is
// unknown drops its " in {f}".
#include "report_title.h"

#include <re2/re2.h>

#include <algorithm>
#include <memory>

namespace mmguard {

namespace {

constexpr std::size_t kMaxAltTitles = 2;

struct TitleRule {
    const char* kind;     // KernelReport::kind, exactly
    const char* message;  // RE2, partial match on the normalised message; "" = any
    const char* title;
};

// Order matters: specific rules before the catch-all of their kind.
const TitleRule kTitleRules[] = {
    // WARNINGs that syzkaller names by what they detect.
    {"WARNING", R"(^refcount_t: )", "WARNING: refcount bug in {f}"},
    {"WARNING", R"(^possible circular locking dependency)", "possible deadlock in {f}"},
    {"WARNING", R"(^possible recursive locking)", "possible deadlock in {f}"},
    {"WARNING", R"(^possible irq lock inversion)", "possible deadlock in {f}"},
    {"WARNING", R"(^[A-Z]+-safe -> [A-Z]+-unsafe lock order)", "possible deadlock in {f}"},
    {"WARNING", R"(^inconsistent lock state)", "inconsistent lock state in {f}"},
    {"WARNING", R"(^suspicious RCU usage)", "WARNING: suspicious RCU usage in {f}"},
    {"WARNING", R"(^held lock freed)", "WARNING: held lock freed in {f}"},
    {"WARNING", R"(^bad unlock balance)", "WARNING: bad unlock balance in {f}"},
    {"WARNING", R"(^bad contention detected)", "WARNING: bad contention in {f}"},
    {"WARNING", R"(^lock held when returning to user space)",
     "WARNING: lock held when returning to user space in {f}"},
    {"WARNING", R"(^Nested lock was not taken)", "WARNING: nested lock was not taken in {f}"},
    {"WARNING", R"(^(?:list_add|list_del|list_add_rcu) corruption)", "BUG: corrupted list in {f}"},
    {"WARNING", R"(^ODEBUG: )", "WARNING: ODEBUG bug in {f}"},
    {"WARNING", "", "WARNING in {f}"},
    {"kernel BUG", R"((?:list_add|list_del) corruption)", "BUG: corrupted list in {f}"},
    {"kernel BUG", "", "kernel BUG in {f}"},
    {"BUG", R"(^kernel NULL pointer dereference)",
     "BUG: unable to handle kernel NULL pointer dereference in {f}"},
    {"BUG", R"(^unable to handle kernel NULL pointer dereference)",
     "BUG: unable to handle kernel NULL pointer dereference in {f}"},
    {"BUG", R"(^unable to handle (?:page fault|kernel paging request))",
     "BUG: unable to handle kernel paging request in {f}"},
    {"BUG", R"(^Bad page state)", "BUG: Bad page state in {f}"},
    {"BUG", R"(^Bad page map)", "BUG: Bad page map in {f}"},
    {"BUG", R"(^Bad rss-counter state)", "BUG: Bad rss-counter state"},
    {"BUG", R"(^non-zero pgtables_bytes)", "BUG: non-zero pgtables_bytes on freeing mm"},
    {"BUG", R"(^sleeping function called from invalid context)",
     "BUG: sleeping function called from invalid context in {f}"},
    {"BUG", R"(^scheduling while atomic)", "BUG: scheduling while atomic in {f}"},
    {"BUG", R"(^workqueue lockup)", "BUG: workqueue lockup"},
    {"BUG", R"(^spinlock (bad magic|recursion|already unlocked|wrong owner|wrong CPU|cpu recursion|lockup suspected))",
     "BUG: spinlock {m1} in {f}"},
    {"BUG", R"(^(?:rwlock|rwlock_t) )", "BUG: rwlock bug in {f}"},
    {"BUG", R"(^([^:]+))", "BUG: {m1} in {f}"},
    {"KASAN", R"(^(.+))", "KASAN: {m1} {access} in {f}"},
    {"KFENCE", R"(^(.+))", "KFENCE: {m1} in {f}"},
    {"UBSAN", R"(^(.+))", "UBSAN: {m1} in {f}"},
    {"soft lockup", "", "BUG: soft lockup in {f}"},
    {"hard lockup", "", "BUG: hard lockup in {f}"},
    {"hung task", "", "INFO: task hung in {f}"},
    {"RCU stall", "", "INFO: rcu detected stall in {f}"},
    {"general protection fault", "", "general protection fault in {f}"},
    {"Oops", R"(^invalid opcode)", "invalid opcode in {f}"},
    {"Oops", "", "Oops in {f}"},
    {"memory leak", "", "memory leak in {f}"},
    {"lockdep", R"(^([^!]+?)(?: detected)?!?$)", "WARNING: {m1} in {f}"},
    {"page dump", R"(^(.+))", "BUG: page dumped because: {m1}"},
    {"page dump", "", "BUG: page dumped"},
    {"panic", R"(^(.+))", "kernel panic: {m1}"},
    {"panic", "", "kernel panic"},
};

// Helpers that report on behalf of their caller: the title names the caller.
const char* const kTitleSkipFunctions[] = {
    "refcount_warn_saturate", "__refcount_*", "refcount_*", "__list_add_valid*",
    "__list_del_entry_valid*", "__list_add", "list_add*", "__list_del_entry", "list_del*",
    "__kmalloc*", "kmalloc*", "kmem_cache_alloc*", "kzalloc*", "kcalloc*", "krealloc*",
    "__kmem_cache_alloc*", "slab_post_alloc_hook", "slab_alloc*", "kmemleak_alloc*",
    "__alloc_pages*", "alloc_pages*", "__vmalloc*", "vmalloc*", "kvmalloc*", "__kvmalloc*",
    "kstrdup*", "kmemdup*", "__ubsan_handle_*", "print_circular_bug", "check_noncircular",
    "print_deadlock_bug", "check_deadlock", "print_usage_bug", "valid_state", "mark_lock",
    "lockdep_rcu_suspicious", "debug_check_no_locks_freed", "print_unlock_imbalance_bug",
    "__lock_release", "lock_release", "spin_bug", "spin_dump", "debug_spin_lock_before",
    "debug_spin_unlock", "do_raw_spin_lock", "do_raw_spin_unlock", "rcu_read_lock*",
    "rcu_read_unlock*", "debug_object*", "debug_print_object",
};

bool title_skips(std::string_view fn) {
    for (std::string_view skip : kTitleSkipFunctions) {
        if (skip.back() == '*') {
            if (fn.substr(0, skip.size() - 1) == skip.substr(0, skip.size() - 1)) return true;
        } else if (fn == skip) {
            return true;
        }
    }
    return false;
}

struct CompiledRule {
    const TitleRule* rule;
    std::unique_ptr<RE2> message;
};

const std::vector<CompiledRule>& rules() {
    static const std::vector<CompiledRule> compiled = [] {
        std::vector<CompiledRule> out;
        for (const auto& r : kTitleRules)
            out.push_back({&r, *r.message ? std::make_unique<RE2>(r.message) : nullptr});
        return out;
    }();
    return compiled;
}

void replace_all(std::string& s, std::string_view what, std::string_view with) {
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
}

std::string kasan_access(const std::vector<std::string>& context) {
    static const RE2 access(R"(\b(Read|Write) of size)");
    std::string which;
    for (const auto& line : context)
        if (RE2::PartialMatch(line, access, &which)) return which;
    return "";
}

std::string fill(std::string_view tmpl, std::string_view message, const std::string& m1,
                 const std::string& access, const std::string& function) {
    std::string out(tmpl);
    if (function.empty()) replace_all(out, " in {f}", "");
    replace_all(out, "{f}", function);
    replace_all(out, "{m1}", m1);
    replace_all(out, "{m}", message);
    replace_all(out, "{access}", access);
    replace_all(out, "  ", " ");
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

ReportTitles make_titles(std::string_view kind, std::string_view message,
                         const std::vector<std::string>& candidates,
                         const std::vector<std::string>& context) {
    std::vector<std::string> functions;
    for (const auto& fn : candidates)
        if (!fn.empty() && !title_skips(fn) &&
            std::find(functions.begin(), functions.end(), fn) == functions.end())
            functions.push_back(fn);
    // Only helpers known: name the helper rather than nothing.
    if (functions.empty())
        for (const auto& fn : candidates)
            if (!fn.empty()) {
                functions.push_back(fn);
                break;
            }

    ReportTitles out;
    for (const auto& r : rules()) {
        if (kind != r.rule->kind) continue;
        std::string m1;
        if (r.message) {
            bool hit = r.message->NumberOfCapturingGroups() > 0
                           ? RE2::PartialMatch(message, *r.message, &m1)
                           : RE2::PartialMatch(message, *r.message);
            if (!hit) continue;
        }
        std::string access = kind == "KASAN" ? kasan_access(context) : "";
        std::string tmpl = r.rule->title;
        out.title = fill(tmpl, message, m1, access, functions.empty() ? "" : functions[0]);
        if (tmpl.find("{f}") != std::string::npos)
            for (std::size_t i = 1; i < functions.size() && out.alt_titles.size() < kMaxAltTitles; ++i)
                out.alt_titles.push_back(fill(tmpl, message, m1, access, functions[i]));
        return out;
    }
    out.title = fill(std::string(kind) + " in {f}", message, "", "", functions.empty() ? "" : functions[0]);
    return out;
}

bool is_consequence_panic(std::string_view panic_message) {
    static const RE2 consequence(
        R"(^(?:Fatal exception|Attempted to kill (?:init|the idle task)|\S+: panic_on_warn set|)"
        R"(\S+: system warned too often|panic_on_taint set|softlockup: hung tasks|)"
        R"(hung_task: blocked tasks|RCU Stall|Hard LOCKUP|Oops))");
    return RE2::PartialMatch(panic_message, consequence);
}

}  // namespace mmguard
