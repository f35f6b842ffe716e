// Kernel report detector: finds BUG/WARNING/Oops/KASAN/... splats in the
// console and gives each one a stable signature.
//
// The recognisers are data (tables of RE2 patterns), in the spirit of
// syzkaller's pkg/report: title patterns say what starts a report and how to
// name it; skip lists say which stack frames are reporting machinery rather
// than the code at fault.
//
// How a report is delimited
// -------------------------
// Before the title: "------------[ cut here ]------------", a "=====" rule
// (KASAN, KFENCE, lockdep) or a dump_page() ("page: refcount:..." up to
// "page dumped because: ...") opens a *pending* block. A title line arriving
// while a block is pending takes the block's lines as the start of its
// context; the WARN() text printed between "cut here" and "WARNING:" and the
// "page dumped because" reason become the report's detail. A page dump that
// no title follows (more than kMaxDumpTrailer unrelated lines, a KTAP line,
// another dump, end of output) becomes a report of kind "page dump".
//
// After the title a report goes through three phases:
//   header  everything up to "Call Trace:" (registers, "Modules linked in",
//           "#PF:" lines, the page dump of "Bad page state", ...);
//   trace   stack frames, <TASK>/<IRQ>/<NMI> sections and register lines;
//           it ends at the </TASK> that closes the outermost section, or at
//           the first line that is neither frame, marker nor register dump;
//   tail    report-like lines after the trace ("Modules linked in",
//           "RIP:", "Code:", "rcu: ...", "Showing all locks held", a second
//           "Call Trace:", ...).
// A report closes (line included) on "---[ end trace ... ]---", on
// "---[ end Kernel panic ... ]---" for a panic, and on a "=====" rule for
// reports opened by one (KASAN/KFENCE: they contain blank lines and page
// dumps, so only the rule or the limits close them).
// It closes (line not included, then handled afresh) on: another report's
// title or "cut here"; a KTAP line ("ok 3 foo", "not ok", "# ...",
// "KTAP version", "1..N"); in the tail phase, any line that does not look
// like part of a report, a blank line, a page dump or a "=====" rule; in the
// header phase, two blank lines in a row. Bounds: kMaxReportContextLines
// lines in all, kMaxHeaderLines before a call trace, kMaxTailLines after it.
// An "Oops: ..." / "invalid opcode: 0000 [#1]" line that follows a title
// before the "CPU:" line (kernel BUG, NULL dereference, page fault) is part
// of that report, not a new one.
//
// Memory
// ------
// Lines are cut at kMaxLineLength, contexts at kMaxReportContextLines, pending
// blocks at kMaxPendingLines. The first kMaxStoredReports reports are stored
// with their context (plus up to kReservedFatalReports panics after that, so
// the final panic of a flooding run is not lost), as long as their contexts
// stay within kMaxContextBytes in total (later ones keep a one-line note).
// Past the cap, reports are only counted per signature, for at most
// kMaxDroppedSignatures distinct signatures; dropped_reports() has the total.

#include "kernel_report.h"
#include "report_title.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <unordered_map>
#include <utility>

namespace mmguard {

namespace {

constexpr std::size_t kMaxHeaderLines = 150;   // title to "Call Trace:"
constexpr std::size_t kMaxTailLines = 60;      // after the trace
constexpr std::size_t kMaxPendingLines = 128;  // cut here / dump before a title
constexpr std::size_t kMaxWarnTextLines = 20;  // lines after "cut here" awaiting a title
constexpr std::size_t kMaxSeparatorWait = 3;   // lines after "=====" awaiting a title
constexpr std::size_t kMaxDumpTrailer = 3;     // unrelated lines after a dump
constexpr std::size_t kReservedFatalReports = 16;
constexpr std::size_t kMaxContextBytes = std::size_t{32} << 20;
constexpr std::size_t kMaxMessageLength = 200;
constexpr std::size_t kMaxFunctionLength = 128;
constexpr std::size_t kMaxTitleFrames = 8;     // frames kept to name alternative titles

// ---------------------------------------------------------------------------
// Pattern tables.

enum TitleFlag : unsigned {
    kFatal = 1u << 0,            // a panic: the kernel stops
    kDieLine = 1u << 1,          // an Oops line: continues a report still in its header
    kWarnText = 1u << 2,         // detail may be the WARN() text after "cut here"
    kDumpDetail = 1u << 3,       // detail may be the "page dumped because" reason
    kKasanRangeDetail = 1u << 4, // detail may be "KASAN: null-ptr-deref in range"
    kNoFunctionInSig = 1u << 5,  // the function is not part of the signature
    kDelimited = 1u << 6,        // closed by a "=====" rule
    kSingleLine = 1u << 7,       // nothing follows the title
    kCutMessage = 1u << 8,       // the message is the first clause of capture 1
    kCommGroup1 = 1u << 9,       // capture 1 is a task name: every digit run -> N
};

struct TitleSpec {
    const char* regex;     // matched against the line, caller prefix and indent removed
    const char* kind;
    const char* message;   // "{1}", "{2}": normalised captures; other text literal
    const char* head;      // signature head; "{m}" is the message
    int file_group;        // capture holding a source file, 0 if none
    int function_group;    // capture holding the function, 0 if none
    unsigned flags;
};

// First match wins, so specific patterns come before generic ones.
const TitleSpec kTitleSpecs[] = {
    {R"(^Kernel panic - not syncing: ?(.*))", "panic", "{1}", "panic: {m}", 0, 0,
     kFatal | kNoFunctionInSig},
    // WARNING: CPU: 1 PID: 123 at mm/page_alloc.c:700 __add_to_free_list+0x8b/0x110
    {R"(^WARNING: (?:CPU: ?\d+ PID: ?\d+ )?at (\S+?):\d+ ?(\S*))", "WARNING", "", "WARNING", 1, 2,
     kWarnText | kDumpDetail},
    // WARNING: mm/page_alloc.c:700 at __add_to_free_list+0x8b/0x110, CPU#1: swapper/0/1
    {R"(^WARNING: (\S+?):\d+ at (\S+?),? CPU#\d+)", "WARNING", "", "WARNING", 1, 2,
     kWarnText | kDumpDetail},
    // A WARNING line too garbled to name its location.
    {R"(^WARNING: CPU: ?\d+ PID: ?\d+)", "WARNING", "", "WARNING", 0, 0, kWarnText | kDumpDetail},
    {R"(^kernel BUG at (\S+?):\d+)", "kernel BUG", "", "kernel BUG", 1, 0, kWarnText | kDumpDetail},
    {R"(^kernel BUG at \S)", "kernel BUG", "", "kernel BUG", 0, 0, kWarnText | kDumpDetail},
    {R"(^BUG: KASAN: (.+?) in (\S+))", "KASAN", "{1}", "KASAN: {m}", 0, 2, kDelimited},
    {R"(^BUG: KFENCE: (.+?) in (\S+))", "KFENCE", "{1}", "KFENCE: {m}", 0, 2, kDelimited},
    {R"(^UBSAN: (.+?) in (\S+?):\d+)", "UBSAN", "{1}", "UBSAN: {m}", 2, 0, 0},
    {R"(^(?:watchdog: )?BUG: soft lockup\b)", "soft lockup", "soft lockup", "BUG: {m}", 0, 0, 0},
    {R"(^(?:watchdog: )?Watchdog detected hard LOCKUP)", "hard lockup", "hard lockup", "BUG: {m}",
     0, 0, 0},
    {R"(^BUG: kernel NULL pointer dereference)", "BUG", "kernel NULL pointer dereference",
     "BUG: {m}", 0, 0, 0},
    {R"(^BUG: unable to handle page fault)", "BUG", "unable to handle page fault", "BUG: {m}", 0, 0,
     0},
    {R"(^(?:BUG: )?[Uu]nable to handle kernel (NULL pointer dereference|paging request))", "BUG",
     "unable to handle kernel {1}", "BUG: {m}", 0, 0, 0},
    {R"(^BUG: Bad page state\b)", "BUG", "Bad page state", "BUG: {m}", 0, 0, kDumpDetail},
    {R"(^BUG: Bad page map\b)", "BUG", "Bad page map", "BUG: {m}", 0, 0, kDumpDetail},
    {R"(^BUG: Bad rss-counter state)", "BUG", "Bad rss-counter state", "BUG: {m}", 0, 0,
     kSingleLine},
    {R"(^BUG: non-zero pgtables_bytes on freeing mm)", "BUG",
     "non-zero pgtables_bytes on freeing mm", "BUG: {m}", 0, 0, kSingleLine},
    {R"(^BUG: scheduling while atomic)", "BUG", "scheduling while atomic", "BUG: {m}", 0, 0, 0},
    {R"(^BUG: sleeping function called from invalid context(?: at (\S+?):\d+)?)", "BUG",
     "sleeping function called from invalid context", "BUG: {m}", 1, 0, 0},
    {R"(^BUG: (.+))", "BUG", "{1}", "BUG: {m}", 0, 0, kCutMessage},
    // INFO: task khugepaged:45 blocked for more than 120 seconds.
    {R"(^INFO: task (.+):\d+ blocked for more than)", "hung task", "task {1} blocked", "INFO: {m}",
     0, 0, kCommGroup1},
    // rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
    {R"(^(?:rcu: )?INFO: rcu\w* (?:self-)?detected (?:expedited )?stall)", "RCU stall", "RCU stall",
     "INFO: {m}", 0, 0, 0},
    // Oops lines (x86 __die_header, arm64 die). Continue a report still in its header.
    {R"(^(?:Oops: )?general protection fault\b.*?: ?[0-9a-f]{4} \[#\d+\])",
     "general protection fault", "general protection fault", "{m}", 0, 0,
     kDieLine | kKasanRangeDetail},
    {R"(^(?:Oops|Internal error): (?:Oops: )?[0-9a-f]{4,} \[#\d+\])", "Oops", "Oops", "{m}", 0, 0,
     kDieLine},
    {R"(^(?:Oops: |Internal error: )?([A-Za-z][\w -]*?): ?[0-9a-f]{4,} \[#\d+\])", "Oops", "{1}",
     "Oops: {m}", 0, 0, kDieLine},
    {R"(^WARNING: (.+))", "WARNING", "{1}", "WARNING: {m}", 0, 0, kCutMessage},
    // lockdep's older bracketed banners: "[ BUG: bad unlock balance detected! ]"
    {R"(^\[ (?:BUG|INFO): (.+?) \]$)", "WARNING", "{1}", "WARNING: {m}", 0, 0, 0},
    // kmemleak: "unreferenced object 0xffff888003a1c000 (size 64):", then its backtrace
    {R"(^unreferenced object 0x[0-9a-f]+ \(size \d+\):)", "memory leak", "memory leak",
     "{m}", 0, 0, 0},
};

// Reasons of page dumps that report a refused request, not a bug: memory
// offline (REPORT_FAILURE) dumps the page that kept a block from going.
// Alone, such a dump is not a report; before a BUG or WARNING it still
// becomes that report's message.
// Nor does it name a WARNING whose "cut here" follows it: that WARN() has
// its own text (the dump is another CPU's offline attempt).
const char* const kDiagnosticDumpReasons[] = {"unmovable page", "isolation failed", "migration failure"};

bool is_diagnostic_dump_reason(std::string_view reason) {
    return std::find(std::begin(kDiagnosticDumpReasons), std::end(kDiagnosticDumpReasons),
                     reason) != std::end(kDiagnosticDumpReasons);
}

// Frames that are reporting, trapping, locking or scheduling machinery: the
// first frame not listed here is the report's function. "x*" is a prefix.
const char* const kSkipFunctions[] = {
    // WARN/BUG/oops plumbing
    "__warn", "__warn_printk", "warn_slowpath*", "report_bug", "__report_bug", "handle_bug",
    "exc_invalid_op", "asm_exc_*", "do_trap", "do_error_trap", "die", "__die", "__die_body",
    "die_addr", "oops_*", "panic", "vpanic", "nmi_panic", "check_panic_on_warn",
    "page_fault_oops", "kernelmode_fixup_or_oops", "__bad_area_nosemaphore",
    "bad_area_nosemaphore", "do_user_addr_fault", "do_kern_addr_fault", "exc_page_fault",
    "exc_general_protection", "fixup_exception", "no_context", "__do_kernel_fault",
    "do_page_fault", "do_translation_fault", "do_mem_abort", "el1_abort", "el1h_64_sync*",
    "el1_*", "bug_handler", "brk_handler", "call_break_hook", "do_el1_brk*",
    // stack dumping
    "dump_stack", "dump_stack_lvl", "dump_stack_print_info", "show_stack", "show_regs",
    "show_trace_log_lvl", "dump_backtrace", "__dump_stack",
    // mm reporters
    "dump_page", "__dump_page", "__dump_folio", "dump_page_owner", "bad_page",
    "page_bad_reason", "free_page_is_bad*", "free_tail_page_prepare", "check_new_page_bad",
    "print_bad_pte", "print_bad_page_map", "check_mm",
    // page-flag accessors whose VM_BUG_ON_PGFLAGS fires for their caller
    "const_folio_flags", "folio_flags", "page_fixed_fake_head",
    // sanitizers
    "kasan_*", "__kasan_*", "__asan_*", "asan_*", "kasan_report*", "print_report",
    "print_address_description*", "report_*", "kfence_*", "__kfence_*", "ubsan_*", "__ubsan_*",
    "check_memory_region*", "__check_object_size", "check_heap_object",
    // sleeping/atomic checks
    "__might_sleep", "__might_resched", "__might_fault", "might_fault", "___might_sleep",
    "__schedule_bug", "schedule_debug",
    // locking
    "_raw_spin_*", "_raw_read_*", "_raw_write_*", "do_raw_spin_*", "do_raw_read_*",
    "do_raw_write_*", "spin_lock*", "spin_unlock*", "queued_spin_*", "native_queued_spin_*", "__pv_queued_spin_*",
    "lock_acquire*", "lock_release", "__lock_acquire", "lock_acquired", "lock_contended",
    "validate_chain", "check_prev_add", "check_prevs_add", "check_noncircular",
    "print_circular_bug", "print_usage_bug", "mark_lock*", "lockdep_*", "mutex_lock*",
    "mutex_unlock", "__mutex_lock*", "__mutex_unlock*", "mutex_trylock", "down_read*",
    "down_write*", "up_read", "up_write", "__down_*", "rwsem_*", "__rwsem_*", "down",
    "down_interruptible", "down_killable", "rt_mutex*", "__rt_mutex*", "percpu_down_*",
    "__percpu_down_*", "percpu_rwsem_wait", "osq_lock",
    // sleeping and waiting (hung tasks)
    "__schedule", "schedule", "schedule_preempt_disabled", "schedule_timeout*",
    "schedule_hrtimeout*", "io_schedule*", "preempt_schedule*", "__cond_resched",
    "wait_for_completion*", "__wait_for_common", "wait_for_common*", "do_wait_for_common",
    "__wait_on_bit*", "out_of_line_wait_on_bit*", "bit_wait*", "folio_wait_bit_common",
    "folio_wait_bit*", "__folio_lock*", "folio_wait_*", "wait_on_page_bit*",
    "__wait_rcu_gp", "synchronize_rcu*", "msleep", "usleep_range*",
    // string helpers
    "memcpy*", "__memcpy*", "memset*", "__memset*", "memmove*", "__memmove*", "memcmp",
    "strlen", "strcmp", "strncpy", "strscpy*", "copy_user_*", "rep_movs_alternative",
    // interrupt and NMI entry
    "asm_sysvec_*", "sysvec_*", "__sysvec_*", "asm_common_interrupt", "common_interrupt",
    "irq_exit*", "__irq_exit_rcu", "handle_softirqs", "__do_softirq", "do_softirq*",
    "nmi_cpu_backtrace", "nmi_trigger_cpumask_backtrace", "arch_trigger_cpumask_backtrace",
    "nmi_handle", "default_do_nmi", "exc_nmi", "asm_exc_nmi", "end_repeat_nmi",
    "trigger_single_cpu_backtrace", "rcu_dump_cpu_stacks", "dump_cpu_task",
};

// The function of a report, best first: "RIP: 0010:func+0x1a/0x40", arm64 "pc : func+...".
const char* const kFunctionLineRegexes[] = {
    R"(^RIP: (?:[0-9a-f]{4}:)?([A-Za-z_$.][\w$.]*)\+0x[0-9a-f]+/0x[0-9a-f]+)",
    R"(^pc ?: ([A-Za-z_$.][\w$.]*)\+0x[0-9a-f]+/0x[0-9a-f]+)",
};

// Stack frame forms; capture 1 is "? " when the frame is unreliable, capture 2 the name.
//   stable_page_flags+0x336/0x340      ? kpageflags_read+0x5/0x130
//   [<ffffffff81243588>] kpageflags_read+0xc8/0x130
//   kpageflags_read (fs/proc/page.c:123)        (decoded by decode_stacktrace.sh)
const char* const kFrameRegexes[] = {
    R"(^(?:\[<[0-9a-f]+>\] )?(\? )?([A-Za-z_$.][\w$.]*)\+0x[0-9a-f]+/0x[0-9a-f]+)",
    R"(^(\? )?([A-Za-z_$.][\w$.]*) \(\S*:\d+)",
    R"(^(\? )?(?:\[<)?(?:0x)?()[0-9a-f]{8,}(?:>\])?\s*$)",  // unsymbolised: a frame, no name
};

// Lines after the call trace that still belong to the report.
const char* const kTailLineRegex =
    R"(^(?:Modules linked in:|RIP:|Code:|RSP:|R[A-Z0-9]{1,2}:|FS:|CS:|GS:|CR\d:|DR\d:|PKRU:|)"
    R"(EFLAGS:|Kernel Offset:|Disabling lock debugging|CPU: ?\d|Hardware name:|Workqueue:|)"
    R"(irq event stamp:|hardirqs last|softirqs last|Showing all locks held|)"
    R"(Showing busy workqueues|\d+ locks? held by|#\d+:|rcu: |NMI backtrace for cpu|)"
    R"(Sending NMI from CPU|task:\S+ +state:|Call [Tt]race:|note: |Fixing recursive fault|)"
    R"(Dumping ftrace buffer|Tainted:|Not tainted|---|pc ?: |lr ?: |sp ?: |x\d+ ?: |)"
    R"(in_atomic\(\)|preempt_count:|RCU nest depth:|Preemption disabled at:|\[<[0-9a-f]+>\]|)"
    R"(\(detected by|\.\.\.|\*\*\*|stack backtrace:|Allocated by task|Freed by task|)"
    R"(Last potentially related work creation:|Second to last potentially related|)"
    R"(The buggy address|Memory state around|[<>]?[0-9a-f]{16}:|\^))";

const char* const kRegisterLineRegex =
    R"(^(?:RIP|RSP|RAX|RBX|RCX|RDX|RSI|RDI|RBP|R\d{1,2}|FS|GS|CS|DS|ES|SS|CR\d|DR\d|PKRU|EFLAGS|)"
    R"(ORIG_RAX|Code|pc|lr|sp|pstate|x\d{1,2}) ?:)";

// Lines a dump_page() prints (and page_owner after it).
const char* const kDumpLineRegex =
    R"(^(?:page:|head:|flags:|page_type:|raw:|memcg:|anon |aops:|ino:|page dumped because:|)"
    R"(page_owner|page last|page has been migrated|pfn:|folio:|mapping:|index:|dentry name|)"
    R"(page_ext|nid:|\S+\+0x[0-9a-f]+/0x[0-9a-f]+))";

struct Rx {
    explicit Rx(const char* pattern) : re(pattern, RE2::Quiet) {
        if (!re.ok()) {
            std::fprintf(stderr, "kernel_report: bad pattern %s: %s\n", pattern,
                         re.error().c_str());
            std::abort();
        }
    }
    RE2 re;
};

struct CompiledTitle {
    const TitleSpec* spec;
    std::unique_ptr<Rx> rx;
};

struct Patterns {
    std::vector<CompiledTitle> titles;
    // All title regexes in one automaton: one pass tells which (if any) match.
    RE2::Set title_set{RE2::Options(RE2::Quiet), RE2::UNANCHORED};
    std::vector<std::unique_ptr<Rx>> function_lines;
    std::vector<std::unique_ptr<Rx>> frames;
    Rx caller_prefix{R"(^\[ *[TC]\d+\] ?)"};
    Rx cut_here{R"(^-{4,}\[ cut here \]-{4,})"};
    Rx separator{R"(^={20,}\s*$)"};
    Rx end_trace{R"(^-{2,}\[ end trace(?: [0-9a-f]+)? \]-{2,})"};
    Rx end_panic{R"(^-{2,}\[ end Kernel panic - not syncing: ?(.*?) ?\]-{2,})"};
    Rx ktap{R"(^(?:(?:not )?ok \d+\b|#(?: |$)|KTAP version \d|TAP version \d|1\.\.\d+\s*$))"};
    Rx page_start{R"(^page:(?: ?[0-9a-f]+)? (?:refcount:|is uninitialized))"};
    Rx dump_reason{R"(^page dumped because: (.+))"};
    Rx kasan_range{R"(^KASAN: (\S+) in range)"};
    Rx cpu_line{R"(^CPU: ?\d+ )"};
    Rx call_trace{R"(^(?:Call [Tt]race:|backtrace(?: \(crc [0-9a-f]+\))?:))"};
    Rx marker{R"(^<(/?)(TASK|IRQ|NMI|SOFTIRQ|#DF|#MC|#VC|EOE|EOI)>)"};
    Rx tail_line{kTailLineRegex};
    Rx register_line{kRegisterLineRegex};
    Rx dump_line{kDumpLineRegex};

    Patterns() {
        for (const auto& spec : kTitleSpecs) {
            titles.push_back({&spec, std::make_unique<Rx>(spec.regex)});
            std::string error;
            if (title_set.Add(spec.regex, &error) < 0) {
                std::fprintf(stderr, "kernel_report: bad pattern %s: %s\n", spec.regex,
                             error.c_str());
                std::abort();
            }
        }
        if (!title_set.Compile()) {
            std::fprintf(stderr, "kernel_report: cannot compile the title set\n");
            std::abort();
        }
        for (const char* r : kFunctionLineRegexes) function_lines.push_back(std::make_unique<Rx>(r));
        for (const char* r : kFrameRegexes) frames.push_back(std::make_unique<Rx>(r));
    }
};

const Patterns& patterns() {
    static const Patterns p;
    return p;
}

bool matches(const Rx& rx, std::string_view s) {
    return RE2::PartialMatch(s, rx.re);
}



// Marker lines; the first-character guards spare ordinary lines the regexes.
bool is_cut(std::string_view lt) {
    return !lt.empty() && lt.front() == '-' && matches(patterns().cut_here, lt);
}
bool is_separator(std::string_view lt) {
    return !lt.empty() && lt.front() == '=' && matches(patterns().separator, lt);
}
bool is_page_start(std::string_view lt) {
    return !lt.empty() && lt.front() == 'p' && matches(patterns().page_start, lt);
}
bool is_end_trace(std::string_view lt) {
    return !lt.empty() && lt.front() == '-' && matches(patterns().end_trace, lt);
}
bool is_end_panic(std::string_view lt, std::string* message) {
    if (lt.empty() || lt.front() != '-') return false;
    std::string ignored;
    return RE2::PartialMatch(lt, patterns().end_panic.re, message ? message : &ignored);
}
bool is_ktap(std::string_view lt) {
    if (lt.empty()) return false;
    char c = lt.front();
    if (c != 'o' && c != 'n' && c != '#' && c != 'K' && c != 'T' && c != '1') return false;
    return matches(patterns().ktap, lt);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

bool is_skipped_function(std::string_view fn) {
    for (std::string_view skip : kSkipFunctions) {
        if (!skip.empty() && skip.back() == '*') {
            skip.remove_suffix(1);
            if (fn.substr(0, skip.size()) == skip) return true;
        } else if (fn == skip) {
            return true;
        }
    }
    return false;
}

std::string cap(std::string s, std::size_t n) {
    if (s.size() > n) s.resize(n);
    return s;
}

// Task names: every digit run is an instance number ("kworker/u8:3").
std::string normalise_comm(std::string_view comm) {
    std::string out;
    for (std::size_t i = 0; i < comm.size();) {
        if (comm[i] >= '0' && comm[i] <= '9') {
            while (i < comm.size() && comm[i] >= '0' && comm[i] <= '9') ++i;
            out += 'N';
        } else {
            out += comm[i++];
        }
    }
    return out;
}

// First clause of a free-form title: "scheduling while atomic: swapper/0/1/0x2"
// -> "scheduling while atomic".
std::string_view first_clause(std::string_view s) {
    static const std::string_view kCuts[] = {": ", ", ", " - ", " at ", " in process",
                                             " for address"};
    std::size_t end = s.size();
    for (auto cut : kCuts) end = std::min(end, s.find(cut));
    s = s.substr(0, end);
    while (!s.empty() && (s.back() == '.' || s.back() == '!' || s.back() == ':' || s.back() == ' '))
        s.remove_suffix(1);
    return s;
}

std::string expand(std::string_view tmpl, const std::vector<std::string>& caps,
                   const std::string& message) {
    std::string out;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] == '{' && i + 2 < tmpl.size() && tmpl[i + 2] == '}') {
            char c = tmpl[i + 1];
            if (c == 'm') {
                out += message;
                i += 2;
                continue;
            }
            if (c >= '1' && c <= '9') {
                std::size_t g = static_cast<std::size_t>(c - '1');
                if (g < caps.size()) out += caps[g];
                i += 2;
                continue;
            }
        }
        out += tmpl[i];
    }
    return out;
}

bool is_ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_hex_digit(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

// ---------------------------------------------------------------------------
// Normalisation.

std::string normalise_message(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (c == ' ' || c == '\t') {
            while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
            if (!out.empty()) out += ' ';
            continue;
        }
        if (!is_ident_char(c)) {
            out += c;
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < text.size() && is_ident_char(text[j])) ++j;
        std::string_view token = text.substr(i, j - i);
        bool digits = false, all_hex = true;
        for (char t : token) {
            if (t >= '0' && t <= '9') digits = true;
            if (!is_hex_digit(t)) all_hex = false;
        }
        bool starts_digit = token[0] >= '0' && token[0] <= '9';
        bool hex_prefixed = token.size() > 2 && token[0] == '0' && (token[1] == 'x' || token[1] == 'X') &&
                            std::all_of(token.begin() + 2, token.end(), is_hex_digit);
        if (hex_prefixed || (starts_digit && all_hex)) {
            out += 'N';                       // 0x1f, 1234, 00ff
        } else if (!starts_digit && all_hex && digits && token.size() >= 8) {
            out += 'N';                       // ffffea0000040000
        } else if (starts_digit) {
            std::size_t k = 0;                // 64bit -> Nbit
            while (k < token.size() && token[k] >= '0' && token[k] <= '9') ++k;
            out += 'N';
            out += token.substr(k);
        } else {
            out += token;                     // identifiers keep their digits
        }
        i = j;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::string normalise_source_path(std::string_view path) {
    // Out-of-tree builds print paths relative to the object directory
    // ("../src/mm/page_alloc.c"); keep the part from the tree's top on.
    while (path.substr(0, 3) == "../" || path.substr(0, 2) == "./") path.remove_prefix(path[0] == '.' && path[1] == '/' ? 2 : 3);
    static constexpr std::string_view kTopDirs[] = {"arch/", "block/", "crypto/", "drivers/", "fs/", "include/",
                                                    "init/", "io_uring/", "ipc/", "kernel/", "lib/", "mm/",
                                                    "net/", "security/", "sound/", "virt/"};
    for (std::size_t slash = 0; slash != std::string_view::npos; slash = path.find('/', slash + 1)) {
        std::string_view rest = slash == 0 ? path : path.substr(slash + 1);
        for (auto top : kTopDirs)
            if (rest.substr(0, top.size()) == top) return std::string(rest);
    }
    return std::string(path);
}

std::string normalise_function(std::string_view symbol) {
    symbol = trim(symbol);
    if (symbol.substr(0, 2) == "? ") symbol.remove_prefix(2);
    // Kernel symbols are C identifiers: anything from the first '.', '+', ' '
    // on is a compiler suffix (.isra.0, .constprop.0, .part.0, .cold,
    // .llvm.123), an offset or a module name.
    std::size_t end = 0;
    while (end < symbol.size() && (is_ident_char(symbol[end]) || symbol[end] == '$')) ++end;
    std::string_view name = symbol.substr(0, end);
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return {};
    return cap(std::string(name), kMaxFunctionLength);
}

// ---------------------------------------------------------------------------
// Detector.

namespace {

struct Pending {
    bool active = false;
    bool has_cut = false;
    bool has_separator = false;
    bool has_dump = false;
    bool in_dump = false;
    std::string dump_reason;
    std::string warn_text;
    std::vector<std::string> lines;
    std::size_t first_line = 0;
    std::size_t last_line = 0;
    std::optional<double> first_timestamp;
    std::size_t dump_end_index = 0;   // lines[0, dump_end_index) are the dump
    std::size_t dump_end_line = 0;
    std::size_t since_marker = 0;     // lines since the last cut/rule/dump line
    std::size_t dump_gap = 0;         // other CPUs' lines inside the dump so far
};

enum class Phase { Header, Trace, Tail };

struct OpenReport {
    const TitleSpec* spec = nullptr;
    KernelReport report;
    std::string title_message;
    std::string detail;
    std::string title_function;
    std::string rip_function;     // first "RIP:" function, skipped or not
    std::string frame_function;   // first reliable frame not in kSkipFunctions
    std::string any_frame;        // first reliable frame
    std::vector<std::string> frames;  // reliable frames not in kSkipFunctions (bounded)
    Phase phase = Phase::Header;
    int depth = 0;
    bool cpu_seen = false;
    bool delimited = false;
    std::size_t phase_lines = 0;
    std::size_t blank_run = 0;
};

}  // namespace

struct ReportDetector::Impl {
    const Patterns& p = patterns();
    std::vector<KernelReport> reports;
    std::optional<OpenReport> open;
    Pending pending;
    bool saw_panic = false;
    std::size_t fatal_past_cap = 0;
    bool last_stored = false;   // the latest report was stored (may absorb its panic)
    std::size_t context_bytes = 0;
    std::size_t dropped = 0;
    std::vector<ReportGroup> dropped_groups;
    std::unordered_map<std::string, std::size_t> dropped_index;

    void feed(const ConsoleLine& line);
    void finish();

    // Line handling.
    void handle_idle(const ConsoleLine& line, std::string_view text, std::string_view lt);
    bool handle_pending(const ConsoleLine& line, std::string_view text, std::string_view lt);
    bool handle_open(const ConsoleLine& line, std::string_view text, std::string_view lt);
    bool handle_tail(const ConsoleLine& line, std::string_view text, std::string_view lt);

    const CompiledTitle* match_title(std::string_view lt, std::vector<std::string>* caps) const;
    void open_report(const CompiledTitle& title, const std::vector<std::string>& caps,
                     const ConsoleLine& line, std::string_view text);
    void append(const ConsoleLine& line, std::string_view text);
    void close_open();

    void start_pending(const ConsoleLine& line, std::string_view text);
    void pending_add(const ConsoleLine& line, std::string_view text);
    void flush_pending();   // emits a page dump report if the block holds one

    void panic_from_end_marker(const ConsoleLine& line, std::string_view text,
                               const std::string& message);
    void store(KernelReport report);
};

ReportDetector::ReportDetector() : impl_(std::make_unique<Impl>()) {}
ReportDetector::~ReportDetector() = default;

void ReportDetector::feed(const ConsoleLine& line) { impl_->feed(line); }
void ReportDetector::finish() { impl_->finish(); }
const std::vector<KernelReport>& ReportDetector::reports() const { return impl_->reports; }
bool ReportDetector::saw_panic() const { return impl_->saw_panic; }
std::size_t ReportDetector::dropped_reports() const { return impl_->dropped; }

std::vector<ReportGroup> ReportDetector::groups() const {
    std::vector<ReportGroup> out = deduplicate(impl_->reports);
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < out.size(); ++i) index.emplace(out[i].first.title, i);
    for (const auto& g : impl_->dropped_groups) {
        auto it = index.find(g.first.title);
        if (it != index.end()) {
            ReportGroup& into = out[it->second];
            into.count += g.count;
            if (std::find(into.signatures.begin(), into.signatures.end(), g.first.signature) ==
                into.signatures.end())
                into.signatures.push_back(g.first.signature);
        } else {
            index.emplace(g.first.title, out.size());
            out.push_back(g);
        }
    }
    return out;
}

void ReportDetector::Impl::feed(const ConsoleLine& line) {
    std::string_view text = line.text;
    if (text.size() > kMaxLineLength) text = text.substr(0, kMaxLineLength);
    // "[    T1] " / "[  C0] " printk caller prefix.
    if (!text.empty() && text.front() == '[') {
        re2::StringPiece sp(text.data(), text.size());
        if (RE2::Consume(&sp, p.caller_prefix.re)) text = std::string_view(sp.data(), sp.size());
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
    std::string_view lt = trim(text);

    if (open && handle_open(line, text, lt)) return;
    if (pending.active && handle_pending(line, text, lt)) return;
    handle_idle(line, text, lt);
}

void ReportDetector::Impl::finish() {
    if (open) close_open();
    flush_pending();
}

const CompiledTitle* ReportDetector::Impl::match_title(std::string_view lt,
                                                       std::vector<std::string>* caps) const {
    // Every title starts with a letter; most console lines need no regex.
    if (lt.empty()) return nullptr;
    char c = lt.front();
    if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '[') return nullptr;
    std::vector<int> hits;
    if (!p.title_set.Match(lt, &hits) || hits.empty()) return nullptr;
    const CompiledTitle& t = p.titles[static_cast<std::size_t>(*std::min_element(hits.begin(), hits.end()))];
    const RE2& re = t.rx->re;
    constexpr int kMaxGroups = 8;
    int n = std::min(re.NumberOfCapturingGroups(), kMaxGroups);
    re2::StringPiece groups[kMaxGroups + 1];
    if (!re.Match(lt, 0, lt.size(), RE2::UNANCHORED, groups, n + 1)) return nullptr;
    caps->clear();
    for (int g = 1; g <= n; ++g)
        caps->emplace_back(groups[g].data() ? std::string(groups[g].data(), groups[g].size())
                                            : std::string());
    return &t;
}

// --- idle -------------------------------------------------------------------

void ReportDetector::Impl::handle_idle(const ConsoleLine& line, std::string_view text,
                                       std::string_view lt) {
    std::vector<std::string> caps;
    if (const CompiledTitle* t = match_title(lt, &caps)) {
        open_report(*t, caps, line, text);
        return;
    }
    if (is_cut(lt) || is_separator(lt) || is_page_start(lt)) {
        start_pending(line, text);
        return;
    }
    std::string msg;
    if (is_end_panic(lt, &msg)) panic_from_end_marker(line, text, msg);
    // Anything else is ordinary console output.
}

void ReportDetector::Impl::panic_from_end_marker(const ConsoleLine& line, std::string_view text,
                                                 const std::string& message) {
    // The panic line itself was lost (or never printed): the end marker is the report.
    for (const auto& t : p.titles) {
        if (std::string_view(t.spec->kind) != "panic") continue;
        open_report(t, {message}, line, text);
        close_open();
        return;
    }
}

// --- pending blocks ----------------------------------------------------------

void ReportDetector::Impl::start_pending(const ConsoleLine& line, std::string_view text) {
    pending = Pending{};
    pending.active = true;
    pending.first_line = line.number;
    pending.first_timestamp = line.timestamp;
    pending_add(line, text);
}

void ReportDetector::Impl::pending_add(const ConsoleLine& line, std::string_view text) {
    std::string_view lt = trim(text);
    if (pending.lines.size() < kMaxPendingLines) pending.lines.emplace_back(text);
    pending.last_line = line.number;
    if (!pending.first_timestamp) pending.first_timestamp = line.timestamp;
    if (is_cut(lt)) {
        pending.has_cut = true;
        pending.in_dump = false;
        pending.since_marker = 0;
        return;
    }
    if (is_separator(lt)) {
        pending.has_separator = true;
        pending.in_dump = false;
        pending.since_marker = 0;
        return;
    }
    if (is_page_start(lt)) {
        pending.has_dump = pending.in_dump = true;
    }
    if (pending.in_dump && matches(p.dump_line, lt)) {
        std::string reason;
        if (RE2::PartialMatch(lt, p.dump_reason.re, &reason) && pending.dump_reason.empty())
            pending.dump_reason = cap(normalise_message(reason), kMaxMessageLength);
        pending.dump_end_index = pending.lines.size();
        pending.dump_end_line = line.number;
        pending.since_marker = 0;
        pending.dump_gap = 0;
        return;
    }
    // Another CPU's lines may interleave with a dump (clocksource, kworker
    // messages): a few of them do not end it.
    if (pending.in_dump && !lt.empty() && ++pending.dump_gap <= kMaxDumpTrailer) {
        ++pending.since_marker;
        return;
    }
    pending.in_dump = false;
    ++pending.since_marker;
    if (pending.has_cut && pending.warn_text.empty() && !lt.empty())
        pending.warn_text = cap(normalise_message(lt), kMaxMessageLength);
}

void ReportDetector::Impl::flush_pending() {
    if (!pending.active) return;
    Pending block = std::move(pending);
    pending = Pending{};
    if (!block.has_dump || block.dump_end_index == 0) return;
    if (is_diagnostic_dump_reason(block.dump_reason)) return;
    KernelReport r;
    r.kind = "page dump";
    r.message = block.dump_reason;
    r.signature = block.dump_reason.empty() ? "page dump" : "page dump: " + block.dump_reason;
    r.title = make_titles(r.kind, r.message, {}, {}).title;
    r.first_line = block.first_line;
    r.last_line = block.dump_end_line;
    r.timestamp = block.first_timestamp;
    block.lines.resize(std::min(block.lines.size(), block.dump_end_index));
    r.context = std::move(block.lines);
    store(std::move(r));
}

// Returns true when the line was consumed by the pending block.
bool ReportDetector::Impl::handle_pending(const ConsoleLine& line, std::string_view text,
                                          std::string_view lt) {
    std::vector<std::string> caps;
    if (const CompiledTitle* t = match_title(lt, &caps)) {
        open_report(*t, caps, line, text);   // takes the pending block
        return true;
    }
    if (is_ktap(lt)) {
        flush_pending();
        return true;
    }
    bool cut = is_cut(lt);
    bool sep = !cut && is_separator(lt);
    bool page = !cut && !sep && is_page_start(lt);
    if (cut) {
        // A dump followed by "cut here" waits for its BUG/WARNING; a second
        // "cut here" (or one after a rule or a diagnostic dump) starts over.
        if (pending.has_cut || pending.has_separator ||
            (pending.has_dump && is_diagnostic_dump_reason(pending.dump_reason))) {
            flush_pending();
            start_pending(line, text);
        } else {
            pending_add(line, text);
        }
        return true;
    }
    if (sep || (page && pending.has_dump)) {
        flush_pending();
        start_pending(line, text);
        return true;
    }
    if (is_end_trace(lt) || is_end_panic(lt, nullptr)) {
        flush_pending();
        return false;   // handled again as an idle line
    }
    pending_add(line, text);
    std::size_t limit = pending.has_cut         ? kMaxWarnTextLines
                        : pending.has_separator ? kMaxSeparatorWait
                                                : kMaxDumpTrailer;
    if (pending.since_marker > limit || pending.lines.size() >= kMaxPendingLines) flush_pending();
    return true;
}

// --- open reports -------------------------------------------------------------

void ReportDetector::Impl::open_report(const CompiledTitle& title,
                                       const std::vector<std::string>& caps,
                                       const ConsoleLine& line, std::string_view text) {
    const TitleSpec& spec = *title.spec;
    OpenReport o;
    o.spec = &spec;
    o.report.kind = spec.kind;
    o.report.fatal = (spec.flags & kFatal) != 0;
    o.delimited = (spec.flags & kDelimited) != 0;

    std::vector<std::string> norm;
    for (std::size_t g = 0; g < caps.size(); ++g) {
        std::string_view c = caps[g];
        if (g == 0 && (spec.flags & kCommGroup1)) {
            norm.push_back(normalise_comm(c));
        } else if (g == 0 && (spec.flags & kCutMessage)) {
            norm.push_back(normalise_message(first_clause(c)));
        } else {
            norm.push_back(normalise_message(c));
        }
    }
    o.title_message = cap(expand(spec.message, norm, ""), kMaxMessageLength);
    if (spec.file_group > 0 && static_cast<std::size_t>(spec.file_group) <= caps.size())
        o.report.file = cap(normalise_source_path(caps[static_cast<std::size_t>(spec.file_group) - 1]), 256);
    if (spec.function_group > 0 && static_cast<std::size_t>(spec.function_group) <= caps.size())
        o.title_function = normalise_function(caps[static_cast<std::size_t>(spec.function_group) - 1]);

    if (pending.active) {
        o.report.first_line = pending.first_line;
        o.report.timestamp = pending.first_timestamp;
        o.report.context = std::move(pending.lines);
        if ((spec.flags & kDumpDetail) && !pending.dump_reason.empty())
            o.detail = pending.dump_reason;
        else if ((spec.flags & kWarnText) && !pending.warn_text.empty())
            o.detail = pending.warn_text;
        pending = Pending{};
    } else {
        o.report.first_line = line.number;
    }
    if (line.timestamp) o.report.timestamp = line.timestamp;
    open = std::move(o);
    append(line, text);
    if (spec.flags & kSingleLine) close_open();
}

void ReportDetector::Impl::append(const ConsoleLine& line, std::string_view text) {
    auto& r = open->report;
    if (r.context.size() < kMaxReportContextLines) r.context.emplace_back(text);
    r.last_line = line.number;
}

// Returns true when the line was consumed by the open report.
bool ReportDetector::Impl::handle_open(const ConsoleLine& line, std::string_view text,
                                       std::string_view lt) {
    OpenReport& o = *open;
    const bool is_panic = (o.spec->flags & kFatal) != 0;

    if (is_end_trace(lt)) {
        append(line, text);
        close_open();
        return true;
    }
    std::string panic_msg;
    if (is_end_panic(lt, &panic_msg)) {
        if (is_panic) {
            append(line, text);
            close_open();
            return true;
        }
        close_open();
        return false;
    }
    std::vector<std::string> caps;
    if (const CompiledTitle* t = match_title(lt, &caps)) {
        bool continues = (t->spec->flags & kDieLine) && o.phase == Phase::Header && !o.cpu_seen &&
                         !is_panic;
        if (!continues) {
            close_open();
            return false;
        }
        append(line, text);
        return true;
    }
    if (is_cut(lt) || is_ktap(lt)) {
        close_open();
        return false;
    }
    if (is_separator(lt)) {
        if (o.delimited) {
            append(line, text);
            close_open();
            return true;
        }
        if (o.phase == Phase::Tail) {
            close_open();
            return false;
        }
    }
    if (is_page_start(lt) && !o.delimited &&
        (o.phase == Phase::Tail || (o.phase == Phase::Trace && o.depth == 0))) {
        close_open();
        return false;
    }
    if (o.report.context.size() >= kMaxReportContextLines) {
        close_open();
        return false;
    }

    // Details that may appear anywhere in the report.
    std::string value;
    if (o.detail.empty()) {
        if ((o.spec->flags & kDumpDetail) && RE2::PartialMatch(lt, p.dump_reason.re, &value))
            o.detail = cap(normalise_message(value), kMaxMessageLength);
        else if ((o.spec->flags & kKasanRangeDetail) && RE2::PartialMatch(lt, p.kasan_range.re, &value))
            o.detail = "KASAN: " + cap(normalise_message(value), kMaxMessageLength);
    }
    if (o.rip_function.empty()) {
        for (const auto& rx : p.function_lines) {
            if (RE2::PartialMatch(lt, rx->re, &value)) {
                o.rip_function = normalise_function(value);
                break;
            }
        }
    }

    switch (o.phase) {
    case Phase::Header:
        o.blank_run = lt.empty() ? o.blank_run + 1 : 0;
        if (o.blank_run >= 2 && !o.delimited) {
            close_open();
            return true;   // a blank stretch: nothing more to read
        }
        if (matches(p.cpu_line, lt)) o.cpu_seen = true;
        append(line, text);
        if (matches(p.call_trace, lt)) {
            o.phase = Phase::Trace;
            o.phase_lines = 0;
            o.depth = 0;
        } else if (++o.phase_lines >= kMaxHeaderLines && !o.delimited) {
            close_open();
        }
        return true;

    case Phase::Trace: {
        std::string q, name;
        for (const auto& rx : p.frames) {
            if (RE2::PartialMatch(lt, rx->re, &q, &name)) {
                append(line, text);
                if (q.empty() && o.frames.size() < kMaxTitleFrames) {
                    std::string fn = normalise_function(name);
                    if (!fn.empty() && !is_skipped_function(fn)) o.frames.push_back(fn);
                }
                if (q.empty() && o.frame_function.empty()) {
                    std::string fn = normalise_function(name);
                    if (o.any_frame.empty()) o.any_frame = fn;
                    if (!fn.empty() && !is_skipped_function(fn)) o.frame_function = fn;
                }
                return true;
            }
        }
        std::string slash, which;
        if (RE2::PartialMatch(lt, p.marker.re, &slash, &which)) {
            append(line, text);
            if (slash.empty()) {
                ++o.depth;
            } else if (o.depth > 0) {
                --o.depth;
                if (o.depth == 0 && which == "TASK") {
                    o.phase = Phase::Tail;
                    o.phase_lines = 0;
                }
            }
            return true;
        }
        if (o.depth > 0 || matches(p.register_line, lt) || matches(p.call_trace, lt)) {
            if (!lt.empty() || o.depth > 0) {
                append(line, text);
                return true;
            }
        }
        // The trace is over; judge this line as a tail line.
        o.phase = Phase::Tail;
        o.phase_lines = 0;
        return handle_tail(line, text, lt);
    }

    case Phase::Tail:
        return handle_tail(line, text, lt);
    }
    return true;
}

bool ReportDetector::Impl::handle_tail(const ConsoleLine& line, std::string_view text,
                                       std::string_view lt) {
    OpenReport& o = *open;
    if (matches(p.call_trace, lt)) {
        append(line, text);
        o.phase = Phase::Trace;
        o.depth = 0;
        return true;
    }
    bool belongs = o.delimited || (!lt.empty() && (matches(p.tail_line, lt) ||
                                                   matches(p.register_line, lt) ||
                                                   matches(*p.frames[0], lt) ||
                                                   matches(p.marker, lt)));
    if (!belongs) {
        close_open();
        return lt.empty();   // a blank line just ends the report
    }
    append(line, text);
    if (++o.phase_lines >= kMaxTailLines && !o.delimited) close_open();
    return true;
}

void ReportDetector::Impl::close_open() {
    if (!open) return;
    OpenReport o = std::move(*open);
    open.reset();
    KernelReport r = std::move(o.report);
    const TitleSpec& spec = *o.spec;

    // RIP, then the title's own function ("WARNING: ... at f+0x", "KASAN:
    // ... in f"), then the call trace; reporting machinery is passed over
    // unless nothing else is known.
    for (const std::string* fn : {&o.rip_function, &o.title_function, &o.frame_function}) {
        if (!fn->empty() && !is_skipped_function(*fn)) {
            r.function = *fn;
            break;
        }
    }
    if (r.function.empty()) {
        for (const std::string* fn : {&o.rip_function, &o.title_function, &o.any_frame}) {
            if (!fn->empty()) {
                r.function = *fn;
                break;
            }
        }
    }

    r.message = o.title_message;
    if (!o.detail.empty()) r.message = r.message.empty() ? o.detail : r.message + ": " + o.detail;

    std::string sig = expand(spec.head, {}, o.title_message);
    if (!(spec.flags & kNoFunctionInSig) && !r.function.empty()) sig += " in " + r.function;
    if (!o.detail.empty()) sig += ": " + o.detail;
    r.signature = std::move(sig);
    std::vector<std::string> candidates;
    for (const std::string* fn : {&o.rip_function, &o.title_function})
        if (!fn->empty() && !is_skipped_function(*fn)) candidates.push_back(*fn);
    candidates.insert(candidates.end(), o.frames.begin(), o.frames.end());
    if (candidates.empty() && !r.function.empty()) candidates.push_back(r.function);
    ReportTitles titles = make_titles(r.kind, r.message, candidates, r.context);
    r.title = std::move(titles.title);
    r.alt_titles = std::move(titles.alt_titles);
    store(std::move(r));
}

void ReportDetector::Impl::store(KernelReport r) {
    if (r.fatal) saw_panic = true;
    if (r.kind == "panic" && last_stored && !reports.empty() && reports.back().kind != "panic" &&
        is_consequence_panic(r.message)) {
        // The panic is how the report before it ended: one report, now fatal.
        KernelReport& cause = reports.back();
        cause.fatal = true;
        cause.last_line = r.last_line;
        for (auto& l : r.context) {
            if (cause.context.size() >= kMaxReportContextLines) break;
            cause.context.push_back(std::move(l));
        }
        return;
    }
    bool fits = reports.size() < kMaxStoredReports;
    if (!fits && r.fatal && fatal_past_cap < kReservedFatalReports) {
        ++fatal_past_cap;
        fits = true;
    }
    if (fits) {
        std::size_t bytes = 0;
        for (const auto& l : r.context) bytes += l.size() + sizeof(std::string);
        if (context_bytes + bytes > kMaxContextBytes) {
            r.context.assign(1, "[context dropped: report memory budget exhausted]");
        } else {
            context_bytes += bytes;
        }
        reports.push_back(std::move(r));
        last_stored = true;
        return;
    }
    last_stored = false;
    ++dropped;
    auto it = dropped_index.find(r.signature);
    if (it != dropped_index.end()) {
        ++dropped_groups[it->second].count;
    } else if (dropped_groups.size() < kMaxDroppedSignatures) {
        r.context.clear();
        r.context.shrink_to_fit();
        dropped_index.emplace(r.signature, dropped_groups.size());
        std::string signature = r.signature;
        dropped_groups.push_back(ReportGroup{std::move(r), 1, {std::move(signature)}});
    }
    // Past kMaxDroppedSignatures distinct signatures, only `dropped` counts.
}

// ---------------------------------------------------------------------------

std::vector<ReportGroup> deduplicate(const std::vector<KernelReport>& reports) {
    std::vector<ReportGroup> out;
    std::unordered_map<std::string, std::size_t> index;
    for (const auto& r : reports) {
        auto [it, inserted] = index.emplace(r.title, out.size());
        if (inserted) {
            out.push_back(ReportGroup{r, 1, {r.signature}});
        } else {
            ReportGroup& g = out[it->second];
            ++g.count;
            if (std::find(g.signatures.begin(), g.signatures.end(), r.signature) == g.signatures.end())
                g.signatures.push_back(r.signature);
        }
    }
    return out;
}

}  // namespace mmguard
