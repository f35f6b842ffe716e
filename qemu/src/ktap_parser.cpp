// Streaming KTAP v1 / TAP 13-14 parser for the guest console.
//
// The parser is a stack machine. Each open KTAP document (the top-level one
// and every nested one, i.e. a suite or a parameterised test) is a Frame on
// the stack; stack[0] is the top-level document, which is not a test itself:
// its children are what results() returns.
//
// Rules, in the order they are applied:
//
//  * Lines are classified on their text without indentation: a version line
//    ("KTAP version 1", "TAP version 13/14"), a plan ("1..N"), a result line
//    ("ok N desc", "not ok N desc # DIRECTIVE reason"), a subtest header
//    ("# Subtest: name"), or anything else (a "# ..." diagnostic, a kernel
//    message, a line of an assertion report). Only the first four kinds are
//    KTAP syntax; everything else is kept as a diagnostic of the test it
//    appears in (bounded) and never changes a status.
//  * Outside a document only a version line matters: it opens a top-level
//    document. All other lines are ignored.
//  * Nesting comes from the structure: a version line or a "# Subtest:" header
//    opens a nested document; the header may come before or after the nested
//    version line (both are seen in KUnit output), or alone (old KUnit).
//    Indentation is only used to tell levels apart where the structure cannot:
//    a version line indented deeper than the open document is nested, one at
//    the indentation of the top-level document starts a new top-level document
//    (the old one is closed as if the output had ended).
//  * A result line either belongs to the innermost open document (a result of
//    one of its test cases) or is that document's own result line, printed at
//    the parent's level. When the document is indented deeper than its parent
//    the indentation decides; when both levels have the same indentation the
//    structure decides: with a plan the document ends after N results, without
//    one it ends at the result line carrying its "# Subtest:" name.
//  * In KTAP a test case has no start line: diagnostics printed after one
//    result line belong to the next test, so they are collected as "pending"
//    and handed to the next result (or the next nested document).
//  * A suite's status is its own result line, except that a suite reporting ok
//    while one of its subtests failed, crashed or has no result is a Fail
//    (like the bubbling in tools/testing/kunit/kunit_parser.py).
//  * Memory is bounded: diagnostics per test, diagnostic bytes overall, the
//    number of stored tests, nesting depth and name lengths are all capped.

#include "ktap_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace mmguard {

const char* to_string(TestStatus status) {
    switch (status) {
        case TestStatus::Pass: return "pass";
        case TestStatus::Fail: return "fail";
        case TestStatus::Skip: return "skip";
        case TestStatus::Crashed: return "crashed";
        case TestStatus::NotRun: return "not run";
        case TestStatus::Error: return "error";
    }
    return "error";
}

namespace {

// ---------------------------------------------------------------- limits ---

constexpr std::size_t kMaxDiagnosticsPerTest = 200;
constexpr std::size_t kMaxDiagnosticBytes = 16u << 20;  // all tests together
constexpr std::size_t kMaxTests = 100000;               // stored TestResults
constexpr std::size_t kMaxDepth = 32;                   // open documents
constexpr std::size_t kMaxNameLength = 256;
constexpr std::size_t kMaxReasonLength = 512;
constexpr std::size_t kMaxProblemNotes = 20;                // numbering notes per document

// -------------------------------------------------------- string helpers ---

std::string_view trim_left(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    return s;
}

std::string_view trim_right(std::string_view s) {
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

std::string_view trim(std::string_view s) { return trim_right(trim_left(s)); }

bool consume_prefix(std::string_view& s, std::string_view prefix) {
    if (s.substr(0, prefix.size()) != prefix) return false;
    s.remove_prefix(prefix.size());
    return true;
}

std::string bounded(std::string_view s, std::size_t max) {
    return std::string(s.substr(0, max));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parses a non-negative int made of the leading digits of `s`, advancing it.
std::optional<int> consume_number(std::string_view& s) {
    int value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end == s.data() || !is_digit(s.front())) return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(end - s.data()));
    return value;
}

// Kernels with CONFIG_PRINTK_CALLER print "[    T1] " after the timestamp.
std::string_view strip_caller_id(std::string_view s) {
    if (s.size() < 4 || s.front() != '[') return s;
    std::string_view rest = trim_left(s.substr(1));
    if (rest.empty() || (rest.front() != 'T' && rest.front() != 'C')) return s;
    rest.remove_prefix(1);
    if (!consume_number(rest) || !consume_prefix(rest, "]")) return s;
    consume_prefix(rest, " ");
    return rest;
}

// ------------------------------------------------------ line classification ---

enum class LineKind {
    Blank,
    Version,        // KTAP version 1 / TAP version 13
    Plan,           // 1..N
    Result,         // ok N name / not ok N name # DIRECTIVE reason
    SubtestHeader,  // # Subtest: name
    Text,           // "# diagnostic", kernel messages, anything else
};

struct ResultLine {
    bool ok = false;
    int number = 0;
    std::string name;
    std::string directive;  // upper case, "" if none
    std::string reason;     // text after the directive, or a plain "# comment"
};

struct Line {
    LineKind kind = LineKind::Blank;
    std::size_t indent = 0;   // leading spaces
    std::string_view text;    // the whole line (caller id removed), right-trimmed
    std::string_view body;    // text without the indentation
    int plan = 0;             // LineKind::Plan
    ResultLine result;        // LineKind::Result
    std::string_view subtest; // LineKind::SubtestHeader
};

bool is_version_line(std::string_view s) {
    if (!consume_prefix(s, "KTAP version ") && !consume_prefix(s, "TAP version ")) return false;
    return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// "1..N", optionally followed by a comment ("1..0 # SKIP no tests").
std::optional<int> parse_plan(std::string_view s) {
    if (!consume_prefix(s, "1..")) return std::nullopt;
    auto count = consume_number(s);
    if (!count || (!s.empty() && s.front() != ' ')) return std::nullopt;
    return count;
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
}

bool is_directive(std::string_view word) {
    return word == "SKIP" || word == "TODO" || word == "XFAIL" || word == "TIMEOUT" ||
           word == "ERROR";
}

// Splits "name # DIRECTIVE reason" / "name # comment" into its parts. A '#'
// only starts a directive or comment when it begins the text or follows a
// space, so names like "case #1" stay whole. The first '#' followed by a known
// directive wins; otherwise the first "# " starts a plain comment (kselftest's
// runner prints "not ok 3 selftests: mm: foo # exit=1").
void split_directive(std::string_view desc, ResultLine& out) {
    std::optional<std::size_t> comment_at;
    for (std::size_t p = desc.find('#'); p != std::string_view::npos; p = desc.find('#', p + 1)) {
        if (p != 0 && desc[p - 1] != ' ') continue;
        std::string_view after = trim_left(desc.substr(p + 1));
        std::size_t word_len = 0;
        while (word_len < after.size() && std::isalpha(static_cast<unsigned char>(after[word_len]))) {
            ++word_len;
        }
        std::string word = upper(after.substr(0, word_len));
        bool word_ends = word_len == after.size() || after[word_len] == ' ';
        if (word_len > 0 && word_ends && is_directive(word)) {
            out.name = bounded(trim(desc.substr(0, p)), kMaxNameLength);
            out.directive = word;
            out.reason = bounded(trim(after.substr(word_len)), kMaxReasonLength);
            return;
        }
        bool plain_comment = p + 1 == desc.size() || desc[p + 1] == ' ';
        if (plain_comment && !comment_at) comment_at = p;
    }
    if (comment_at) {
        out.name = bounded(trim(desc.substr(0, *comment_at)), kMaxNameLength);
        out.reason = bounded(trim(desc.substr(*comment_at + 1)), kMaxReasonLength);
        return;
    }
    out.name = bounded(trim(desc), kMaxNameLength);
}

// "(ok|not ok) N [- ]description[ # DIRECTIVE reason]". The test number is
// required: it keeps stray kernel messages starting with "ok" out.
std::optional<ResultLine> parse_result_line(std::string_view s) {
    ResultLine r;
    if (consume_prefix(s, "ok ")) {
        r.ok = true;
    } else if (consume_prefix(s, "not ok ")) {
        r.ok = false;
    } else {
        return std::nullopt;
    }
    s = trim_left(s);
    auto number = consume_number(s);
    if (!number || (!s.empty() && s.front() != ' ')) return std::nullopt;
    r.number = *number;
    s = trim_left(s);
    if (s == "-") s = {};
    consume_prefix(s, "- ");
    split_directive(s, r);
    return r;
}

Line classify(std::string_view raw) {
    Line line;
    line.text = trim_right(strip_caller_id(raw));
    std::string_view body = trim_left(line.text);
    line.indent = line.text.size() - body.size();
    line.body = body;
    if (body.empty()) {
        line.kind = LineKind::Blank;
    } else if (is_version_line(body)) {
        line.kind = LineKind::Version;
    } else if (auto plan = parse_plan(body)) {
        line.kind = LineKind::Plan;
        line.plan = *plan;
    } else if (auto result = parse_result_line(body)) {
        line.kind = LineKind::Result;
        line.result = std::move(*result);
    } else if (std::string_view rest = body; consume_prefix(rest, "# Subtest:")) {
        line.kind = LineKind::SubtestHeader;
        line.subtest = trim(rest);
    } else {
        line.kind = LineKind::Text;
    }
    return line;
}

// ------------------------------------------------------------ statuses ---

// SKIP means skipped whether the line says ok or not ok. TODO and XFAIL mark
// an expected failure: a "not ok ... # TODO" / "# XFAIL" is not counted as a
// failure, so it is a Pass with the directive kept for the report. TIMEOUT
// and ERROR keep the ok/not ok of the line (not ok => Fail).
TestStatus status_for(const ResultLine& r) {
    if (r.directive == "SKIP") return TestStatus::Skip;
    if (r.directive == "TODO" || r.directive == "XFAIL") return TestStatus::Pass;
    return r.ok ? TestStatus::Pass : TestStatus::Fail;
}

bool is_failure(TestStatus s) {
    return s == TestStatus::Fail || s == TestStatus::Crashed || s == TestStatus::Error;
}

// A suite that says plain "ok" cannot hide a failed, crashed or missing
// subtest: it becomes a Fail naming the first such subtest.
void bubble_up(TestResult& suite) {
    if (suite.status != TestStatus::Pass || !suite.directive.empty()) return;
    for (const TestResult& sub : suite.subtests) {
        if (is_failure(sub.status)) {
            suite.status = TestStatus::Fail;
            suite.reason = bounded(fmt::format("reported ok, but subtest '{}' is {}", sub.name,
                                               to_string(sub.status)),
                                   kMaxReasonLength);
            return;
        }
    }
}

// --------------------------------------------------------------- frames ---

// Diagnostic lines collected for one test, bounded.
struct DiagSink {
    std::vector<std::string> lines;
    std::size_t dropped = 0;
    std::size_t first_line = 0;
    std::optional<double> first_time;

    bool empty() const { return lines.empty() && dropped == 0; }
};

// One open KTAP document: the top-level one (is_root) or a nested test.
struct Frame {
    TestResult test;             // name, plan, subtests, first_line... so far
    bool is_root = false;
    bool ktap = true;            // root: "KTAP version" (suites) or "TAP version"
    bool saw_leaf = false;       // root: had a result without nested document
    std::size_t indent = 0;      // indentation of this document's own lines
    bool indent_confirmed = true;  // false while only a "# Subtest:" header was seen
    bool has_version = false;
    int results = 0;             // result lines read at this level, stored or not
    std::vector<std::string> problems;  // numbering and plan errors: the test is not a pass
    std::string subtest_name;    // from "# Subtest: name"
    DiagSink own;                // lines about the document itself
    DiagSink pending;            // lines since the last result: the next test's

    // Opened, but no plan and no result yet: a "# Subtest:" or version line
    // seen now still describes this document.
    bool in_header() const { return !is_root && !test.plan && results == 0; }
};

// How open documents are closed when their output stops.
struct EndMode {
    TestStatus running;  // the test that was running (Crashed, or Error)
    TestStatus suite;    // the documents holding it (Fail, or Error)
    std::string why;     // "kernel crashed", "console ended", ...
};

const char* describe(EndReason reason) {
    switch (reason) {
        case EndReason::EndOfOutput: return "console ended";
        case EndReason::KernelCrash: return "kernel crashed";
        case EndReason::Timeout: return "timed out";
    }
    return "console ended";
}

enum class Placement { Child, Own, Deeper, Ancestor };

// Sets the indentation of a document opened by a "# Subtest:" header from its
// first real line (the header may sit at the parent's indentation).
void confirm_indent(Frame& frame, std::size_t indent) {
    if (frame.indent_confirmed) return;
    frame.indent = std::max(frame.indent, indent);
    frame.indent_confirmed = true;
}

// Two levels can be told apart by indentation only when the nested document
// is indented deeper than its parent.
bool indent_separates(const Frame& child, const Frame& parent) {
    return child.indent > parent.indent;
}

}  // namespace

// ------------------------------------------------------------------ Impl ---

struct KtapParser::Impl {
    std::vector<Frame> stack;
    std::vector<TestResult> results;
    ResultCallback callback;
    std::size_t stored_tests = 0;
    std::size_t dropped_tests = 0;
    std::size_t diagnostic_bytes = 0;
    std::size_t last_line = 0;

    void feed(const ConsoleLine& console);
    void end_all(const EndMode& mode);

private:
    void on_version(const Line& line, const ConsoleLine& console);
    void on_subtest_header(const Line& line, const ConsoleLine& console);
    void on_plan(const Line& line, const ConsoleLine& console);
    void on_result(const Line& line, const ConsoleLine& console);
    void on_text(const Line& line, const ConsoleLine& console);

    void open_root(const Line& line, const ConsoleLine& console);
    bool open_child(const Line& line, const ConsoleLine& console);
    Placement place_result(const Line& line) const;
    void add_leaf(Frame& frame, const ResultLine& r, const ConsoleLine& console);
    void close_top_with_result(const ResultLine& r, const ConsoleLine& console);
    std::optional<TestResult> close_open_frame(const EndMode& mode,
                                               std::optional<TestResult> child);
    void abandon_top();
    void close_root_if_complete();

    void add_child(Frame& parent, TestResult&& test);
    void count_dropped(Frame& parent, std::size_t count);
    std::string add_running_placeholder(Frame& frame, TestStatus status, std::string reason);
    void add_not_run(Frame& frame, int last, const std::string& reason);
    std::string placeholder_name(const Frame& frame, int number) const;

    void add_diag(DiagSink& sink, std::string_view text, const ConsoleLine& console);
    void merge_diags(DiagSink& into, DiagSink& from);
    std::vector<std::string> take_diags(DiagSink& sink);
    std::vector<std::string> frame_diags(Frame& frame);
};

void KtapParser::Impl::feed(const ConsoleLine& console) {
    last_line = console.number;
    Line line = classify(console.text);
    switch (line.kind) {
        case LineKind::Blank: return;
        case LineKind::Version: on_version(line, console); return;
        case LineKind::SubtestHeader: on_subtest_header(line, console); return;
        case LineKind::Plan: on_plan(line, console); return;
        case LineKind::Result: on_result(line, console); return;
        case LineKind::Text: on_text(line, console); return;
    }
}

void KtapParser::Impl::on_version(const Line& line, const ConsoleLine& console) {
    if (stack.empty()) {
        open_root(line, console);
        return;
    }
    Frame& top = stack.back();
    // "# Subtest: name" came first; this version line opens the same document.
    if (top.in_header() && !top.has_version && line.indent >= top.indent) {
        top.has_version = true;
        confirm_indent(top, line.indent);
        return;
    }
    if (line.indent > top.indent) {
        if (!open_child(line, console)) on_text(line, console);
        return;
    }
    // At the top-level document's indentation: a new top-level document.
    if (line.indent <= stack.front().indent) {
        end_all({TestStatus::Error, TestStatus::Fail, "a new KTAP document started"});
        open_root(line, console);
        return;
    }
    // Between the levels: the deeper documents ended without a result line;
    // this one is a sibling of theirs.
    while (stack.size() > 1 && stack.back().indent >= line.indent) abandon_top();
    if (!open_child(line, console)) on_text(line, console);
}

void KtapParser::Impl::on_subtest_header(const Line& line, const ConsoleLine& console) {
    if (stack.empty()) return;
    Frame& top = stack.back();
    if (top.in_header()) {  // names the document just opened by a version line
        top.subtest_name = bounded(line.subtest, kMaxNameLength);
        return;
    }
    // A header left of an indented open document means that document is over.
    while (stack.size() > 1 && indent_separates(stack.back(), stack[stack.size() - 2]) &&
           line.indent < stack.back().indent) {
        abandon_top();
    }
    if (!open_child(line, console)) {
        on_text(line, console);
        return;
    }
    Frame& child = stack.back();
    child.has_version = false;
    child.indent_confirmed = false;  // the header may be at the parent's indent
    child.subtest_name = bounded(line.subtest, kMaxNameLength);
}

void KtapParser::Impl::on_plan(const Line& line, const ConsoleLine& console) {
    if (stack.empty()) return;
    Frame& top = stack.back();
    confirm_indent(top, line.indent);
    bool top_started = top.test.plan || top.results > 0;
    if (top_started && line.indent > top.indent) {
        // A deeper plan after results: a nested document without version line.
        if (!open_child(line, console)) {
            on_text(line, console);
            return;
        }
        stack.back().test.plan = line.plan;
    } else if (!top.test.plan) {
        top.test.plan = line.plan;
        // Lines between the version line and the plan ("# module: ...") are
        // about the document itself, not about its first test.
        if (top.results == 0) merge_diags(top.own, top.pending);
    } else {
        on_text(line, console);  // a second plan: not meaningful
        return;
    }
    close_root_if_complete();
}

// Decides what a result line is, relative to the innermost open (nested)
// document T and its parent P.
Placement KtapParser::Impl::place_result(const Line& line) const {
    const Frame& t = stack.back();
    const Frame& p = stack[stack.size() - 2];
    const ResultLine& r = line.result;
    if (indent_separates(t, p)) {
        if (line.indent > t.indent) return Placement::Deeper;
        if (line.indent == t.indent) return Placement::Child;
        if (line.indent < p.indent && !p.is_root) return Placement::Ancestor;
        return Placement::Own;
    }
    // Same indentation for both levels: only the structure tells.
    if (t.test.plan && t.results >= *t.test.plan) return Placement::Own;
    if (!t.test.plan && !t.subtest_name.empty() && r.name == t.subtest_name) return Placement::Own;
    if (line.indent < t.indent) return Placement::Own;
    return Placement::Child;
}

void KtapParser::Impl::on_result(const Line& line, const ConsoleLine& console) {
    if (stack.empty()) return;
    for (;;) {
        Frame& top = stack.back();
        if (top.is_root) {
            top.saw_leaf = true;
            add_leaf(top, line.result, console);
            break;
        }
        confirm_indent(top, line.indent);
        Placement placement = place_result(line);
        if (placement == Placement::Ancestor) {
            abandon_top();
            continue;
        }
        if (placement == Placement::Child) {
            add_leaf(top, line.result, console);
        } else if (placement == Placement::Own) {
            close_top_with_result(line.result, console);
        } else {
            on_text(line, console);  // too deep to be ours: keep as diagnostic
        }
        break;
    }
    close_root_if_complete();
}

void KtapParser::Impl::on_text(const Line& line, const ConsoleLine& console) {
    if (stack.empty()) return;  // between documents: not ours
    Frame& top = stack.back();
    std::string_view text = line.text.substr(std::min(line.indent, top.indent));
    add_diag(top.pending, text, console);
}

void KtapParser::Impl::open_root(const Line& line, const ConsoleLine& console) {
    Frame root;
    root.is_root = true;
    root.ktap = line.body.substr(0, 4) == "KTAP";
    root.indent = line.indent;
    root.has_version = true;
    root.test.first_line = console.number;
    root.test.start_time = console.timestamp;
    stack.push_back(std::move(root));
}

// Opens a nested document under the innermost one. Lines pending in the
// parent (printed after its last result) lead up to this test and move along.
bool KtapParser::Impl::open_child(const Line& line, const ConsoleLine& console) {
    if (stack.size() >= kMaxDepth) return false;
    Frame child;
    child.indent = line.indent;
    child.has_version = line.kind == LineKind::Version;
    child.test.first_line = console.number;
    child.test.start_time = console.timestamp;
    child.pending = std::move(stack.back().pending);
    stack.back().pending = DiagSink{};
    stack.push_back(std::move(child));
    return true;
}

void KtapParser::Impl::add_leaf(Frame& frame, const ResultLine& r, const ConsoleLine& console) {
    TestResult test;
    test.number = r.number;
    test.name = r.name.empty() ? fmt::format("test {}", r.number) : r.name;
    test.status = status_for(r);
    test.directive = r.directive;
    test.reason = r.reason;
    bool has_pending = !frame.pending.empty();
    test.first_line = has_pending ? frame.pending.first_line : console.number;
    test.start_time = has_pending ? frame.pending.first_time : console.timestamp;
    test.last_line = console.number;
    test.end_time = console.timestamp;
    test.diagnostics = take_diags(frame.pending);
    add_child(frame, std::move(test));
}

// The innermost document printed its own result line (at the parent's level).
void KtapParser::Impl::close_top_with_result(const ResultLine& r, const ConsoleLine& console) {
    Frame frame = std::move(stack.back());
    stack.pop_back();
    int planned = frame.test.plan.value_or(0);
    if (frame.results < planned) {
        // The document ended early (e.g. a selftest program died): the test
        // after the last result has no result, the rest never ran.
        add_running_placeholder(frame, TestStatus::Error,
                                "no result line before the end of its suite");
        add_not_run(frame, planned, "not run: its suite ended before it");
    }
    TestResult& test = frame.test;
    test.number = r.number;
    if (!r.name.empty()) {
        test.name = r.name;
    } else if (!frame.subtest_name.empty()) {
        test.name = frame.subtest_name;
    } else {
        test.name = fmt::format("test {}", r.number);
    }
    test.status = status_for(r);
    test.directive = r.directive;
    test.reason = r.reason;
    bubble_up(test);
    test.last_line = console.number;
    test.end_time = console.timestamp;
    test.diagnostics = frame_diags(frame);
    if (frame.test.plan && frame.results > planned)
        frame.problems.push_back(fmt::format("{} results for a plan of {}", frame.results, planned));
    // "1..0" and a plain "ok": nothing ran, and nobody said it was skipped.
    if (frame.test.plan && planned == 0 && frame.results == 0 && test.status == TestStatus::Pass)
        frame.problems.push_back("no tests run (plan 1..0 without # SKIP)");
    for (auto& problem : frame.problems) test.diagnostics.push_back(std::move(problem));
    if (!frame.problems.empty() && test.status == TestStatus::Pass) {
        test.status = TestStatus::Fail;
        if (test.reason.empty()) test.reason = "KTAP numbering or plan error";
    }
    add_child(stack.back(), std::move(test));
}

// Pops the innermost document, whose output stopped before its result line.
// `child` is the document closed just before, which was running inside it.
// Returns the closed test, or nothing for the top-level document (whose
// children went to results()).
std::optional<TestResult> KtapParser::Impl::close_open_frame(const EndMode& mode,
                                                             std::optional<TestResult> child) {
    Frame frame = std::move(stack.back());
    stack.pop_back();
    std::string running;  // the test that was running inside this document
    if (child) {
        running = child->name;
        add_child(frame, std::move(*child));
    }
    int planned = frame.test.plan.value_or(0);
    if (running.empty() && frame.results < planned) {
        // Innermost: test k+1 after k results had started (KTAP prints no
        // start line for a test case).
        running = add_running_placeholder(frame, mode.running,
                                          fmt::format("{} while this test ran", mode.why));
    }
    add_not_run(frame, planned, fmt::format("not run: {} before it started", mode.why));
    if (frame.is_root) return std::nullopt;

    TestResult& test = frame.test;
    test.number = stack.back().results + 1;
    if (test.name.empty()) {
        test.name = frame.subtest_name.empty() ? placeholder_name(stack.back(), test.number)
                                               : frame.subtest_name;
    }
    if (!running.empty()) {
        test.status = mode.suite;
        test.reason = bounded(fmt::format("did not finish: {} during {}", mode.why, running),
                              kMaxReasonLength);
    } else {
        // No test inside can be blamed (no plan, or all planned tests done).
        test.status = mode.running;
        test.reason = fmt::format("{} while this test ran", mode.why);
    }
    test.last_line = last_line;
    test.diagnostics = frame_diags(frame);
    return std::move(test);
}

// Closes every open document, innermost first.
void KtapParser::Impl::end_all(const EndMode& mode) {
    std::optional<TestResult> child;
    while (!stack.empty()) child = close_open_frame(mode, std::move(child));
}

// The innermost document's output stopped, but the parent goes on.
void KtapParser::Impl::abandon_top() {
    auto test = close_open_frame(
        {TestStatus::Error, TestStatus::Error, "no result line was printed"}, std::nullopt);
    if (test) add_child(stack.back(), std::move(*test));
}

// A top-level document is over once its plan is complete; closing it keeps
// the kernel messages that follow from being collected.
void KtapParser::Impl::close_root_if_complete() {
    if (stack.size() != 1) return;
    const Frame& root = stack.front();
    if (root.test.plan && root.results >= *root.test.plan) stack.clear();
}

// Stores a finished test under `parent`; children of the top-level document
// go to results() and are reported through the callback.
void KtapParser::Impl::add_child(Frame& parent, TestResult&& test) {
    // Like kunit.py: a result must carry the next number of its document.
    if (!parent.is_root && test.number > 0 && test.number != parent.results + 1 &&
        parent.problems.size() < kMaxProblemNotes)
        parent.problems.push_back(fmt::format("numbering error: expected test {}, got {} ({})",
                                              parent.results + 1, test.number, test.name));
    ++parent.results;
    if (stored_tests >= kMaxTests) {
        count_dropped(parent, 1);
        return;
    }
    ++stored_tests;
    if (!parent.is_root) {
        parent.test.subtests.push_back(std::move(test));
        return;
    }
    results.push_back(std::move(test));
    if (callback) callback(results.back());
}

// Past the test limit, tests are only counted; one note says so.
void KtapParser::Impl::count_dropped(Frame& parent, std::size_t count) {
    if (dropped_tests == 0) {
        std::string note = fmt::format(
            "... limit of {} tests reached, further tests are not recorded", kMaxTests);
        if (!parent.is_root) {
            parent.own.lines.push_back(std::move(note));
        } else if (!results.empty()) {
            results.back().diagnostics.push_back(std::move(note));
        }
    }
    dropped_tests += count;
}

std::string KtapParser::Impl::placeholder_name(const Frame& frame, int number) const {
    bool suites = frame.is_root && frame.ktap && !frame.saw_leaf;
    return fmt::format("{} {}", suites ? "suite" : "test", number);
}

// Adds test k+1 (the one running when the output stopped) with the lines
// printed since the last result; returns its name.
std::string KtapParser::Impl::add_running_placeholder(Frame& frame, TestStatus status,
                                                      std::string reason) {
    TestResult test;
    test.number = frame.results + 1;
    test.name = placeholder_name(frame, test.number);
    test.status = status;
    test.reason = std::move(reason);
    test.first_line = frame.pending.empty() ? last_line : frame.pending.first_line;
    test.start_time = frame.pending.first_time;
    test.last_line = last_line;
    test.diagnostics = take_diags(frame.pending);
    std::string name = test.name;
    add_child(frame, std::move(test));
    return name;
}

// Adds NotRun placeholders for the planned tests after the last one seen, up
// to `last`. Only as many as the test limit allows are created.
void KtapParser::Impl::add_not_run(Frame& frame, int last, const std::string& reason) {
    while (frame.results < last) {
        if (stored_tests >= kMaxTests) {  // count the rest without building them
            count_dropped(frame, static_cast<std::size_t>(last - frame.results));
            frame.results = last;
            return;
        }
        TestResult test;
        test.number = frame.results + 1;
        test.name = placeholder_name(frame, test.number);
        test.status = TestStatus::NotRun;
        test.reason = reason;
        add_child(frame, std::move(test));
    }
}

void KtapParser::Impl::add_diag(DiagSink& sink, std::string_view text, const ConsoleLine& console) {
    if (sink.empty()) {
        sink.first_line = console.number;
        sink.first_time = console.timestamp;
    }
    if (sink.lines.size() >= kMaxDiagnosticsPerTest ||
        diagnostic_bytes + text.size() > kMaxDiagnosticBytes) {
        ++sink.dropped;
        return;
    }
    diagnostic_bytes += text.size();
    sink.lines.emplace_back(text);
}

// Appends `from` to `into`, keeping the per-test cap; empties `from`.
void KtapParser::Impl::merge_diags(DiagSink& into, DiagSink& from) {
    if (from.empty()) return;
    if (into.empty()) {
        into.first_line = from.first_line;
        into.first_time = from.first_time;
    }
    for (std::string& line : from.lines) {
        if (into.lines.size() >= kMaxDiagnosticsPerTest) {
            diagnostic_bytes -= line.size();
            ++into.dropped;
        } else {
            into.lines.push_back(std::move(line));
        }
    }
    into.dropped += from.dropped;
    from = DiagSink{};
}

std::vector<std::string> KtapParser::Impl::take_diags(DiagSink& sink) {
    std::vector<std::string> lines = std::move(sink.lines);
    if (sink.dropped > 0) lines.push_back(fmt::format("... {} lines dropped", sink.dropped));
    sink = DiagSink{};
    return lines;
}

// A document's diagnostics: its header lines, then what followed its last
// result (summary lines such as "# suite: pass:2 fail:0").
std::vector<std::string> KtapParser::Impl::frame_diags(Frame& frame) {
    merge_diags(frame.own, frame.pending);
    return take_diags(frame.own);
}

// ------------------------------------------------------------- KtapParser ---

KtapParser::KtapParser() : impl_(std::make_unique<Impl>()) {}
KtapParser::~KtapParser() = default;

void KtapParser::on_top_level_result(ResultCallback callback) {
    impl_->callback = std::move(callback);
}

void KtapParser::feed(const ConsoleLine& line) { impl_->feed(line); }

void KtapParser::finish(EndReason reason) {
    impl_->end_all({TestStatus::Crashed, TestStatus::Fail, describe(reason)});
}

const std::vector<TestResult>& KtapParser::results() const { return impl_->results; }

}  // namespace mmguard
