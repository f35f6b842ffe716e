#include "run_report.h"

#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "atomic_file.h"
#include "progress.h"

namespace mmguard {

namespace fs = std::filesystem;
namespace {

using nlohmann::json;

void add_counts(TestCounts& c, TestStatus s) {
    switch (s) {
    case TestStatus::Pass: ++c.passed; break;
    case TestStatus::Skip: ++c.skipped; break;
    case TestStatus::Crashed: ++c.crashed; break;
    case TestStatus::NotRun: ++c.not_run; break;
    case TestStatus::Fail:
    case TestStatus::Error: ++c.failed; break;
    }
}

json test_json(const TestResult& t) {
    json j = {{"name", t.name}, {"number", t.number}, {"status", to_string(t.status)}};
    if (!t.directive.empty()) j["directive"] = t.directive;
    if (!t.reason.empty()) j["reason"] = t.reason;
    if (t.first_line) j["console_lines"] = {t.first_line, t.last_line};
    if (t.start_time && t.end_time) j["seconds"] = *t.end_time - *t.start_time;
    if (!t.diagnostics.empty()) j["diagnostics"] = t.diagnostics;
    if (!t.subtests.empty()) {
        j["subtests"] = json::array();
        for (const auto& s : t.subtests) j["subtests"].push_back(test_json(s));
    }
    return j;
}

std::string join_lines(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

// What a JUnit testsuite element counts, each case in exactly one column.
struct JunitCounts {
    int tests = 0, failures = 0, errors = 0, skipped = 0;
};

// A check that failed is a <failure>; a case that could not finish (crashed,
// never ran, a KTAP error line) is an <error>.
const char* junit_problem(TestStatus s) {
    switch (s) {
    case TestStatus::Pass: return nullptr;
    case TestStatus::Skip: return "skipped";
    case TestStatus::Fail: return "failure";
    case TestStatus::Error:
    case TestStatus::Crashed:
    case TestStatus::NotRun: return "error";
    }
    return "error";
}

void count_problem(JunitCounts& c, const std::string& problem) {
    ++c.tests;
    if (problem == "failure") ++c.failures;
    else if (problem == "error") ++c.errors;
    else if (problem == "skipped") ++c.skipped;
}

void junit_cases(pugi::xml_node suite, const TestResult& t, const std::string& prefix, JunitCounts& c) {
    if (!t.subtests.empty()) {
        for (const auto& s : t.subtests) junit_cases(suite, s, prefix + t.name + ".", c);
        // A suite that failed with passing cases (it crashed, say) still fails.
        if ((t.status == TestStatus::Fail || t.status == TestStatus::Crashed || t.status == TestStatus::Error) &&
            count_tests(t).ok()) {
            auto tc = suite.append_child("testcase");
            tc.append_attribute("name") = (t.name + " (suite result)").c_str();
            tc.append_attribute("classname") = prefix.c_str();
            tc.append_child("failure").append_attribute("message") = t.reason.c_str();
            count_problem(c, "failure");
        }
        return;
    }
    auto tc = suite.append_child("testcase");
    tc.append_attribute("name") = t.name.c_str();
    tc.append_attribute("classname") = (prefix.empty() ? std::string("mmguard") : prefix.substr(0, prefix.size() - 1)).c_str();
    if (t.start_time && t.end_time) tc.append_attribute("time") = *t.end_time - *t.start_time;
    const char* problem = junit_problem(t.status);
    count_problem(c, problem ? problem : "");
    if (t.status == TestStatus::Skip) {
        tc.append_child("skipped").append_attribute("message") = t.reason.c_str();
    } else if (problem) {
        auto f = tc.append_child(problem);
        f.append_attribute("message") = fmt::format("{}{}{}", to_string(t.status), t.reason.empty() ? "" : ": ", t.reason).c_str();
        f.text().set(join_lines(t.diagnostics).c_str());
    }
    if (!t.diagnostics.empty()) tc.append_child("system-out").text().set(join_lines(t.diagnostics).c_str());
}

std::size_t total_reports(const std::vector<ReportGroup>& groups) {
    std::size_t n = 0;
    for (const auto& g : groups) n += g.count;
    return n;
}

}  // namespace

TestCounts count_tests(const TestResult& t) {
    TestCounts c;
    if (t.subtests.empty()) {
        add_counts(c, t.status);
        return c;
    }
    for (const auto& s : t.subtests) {
        TestCounts sc = count_tests(s);
        c.passed += sc.passed;
        c.failed += sc.failed;
        c.skipped += sc.skipped;
        c.crashed += sc.crashed;
        c.not_run += sc.not_run;
    }
    return c;
}

Verdict judge(const BootResult& boot, const Expectations& expect) {
    Verdict v;
    auto raise = [&](int code, std::string why) {
        // Harness errors outrank kernel trouble, which outranks test failures.
        auto rank = [](int c) { return c == kExitHarnessError ? 3 : c == kExitKernelReport ? 2 : c == kExitTestFailure ? 1 : 0; };
        if (code == kExitInterrupted || rank(code) > rank(v.exit_code)) v.exit_code = code;
        v.reasons.push_back(std::move(why));
    };
    if (boot.outcome == BootOutcome::Interrupted) {
        raise(kExitInterrupted, "interrupted");
        return v;
    }
    // A boot the harness stopped once it had shown the reports it was run
    // for is judged by those reports (there is at least one).
    if (boot.outcome != BootOutcome::Completed && boot.outcome != BootOutcome::Stopped) {
        bool kernel_side = boot.outcome == BootOutcome::Panic || boot.outcome == BootOutcome::Hang ||
                           boot.outcome == BootOutcome::Flood || boot.outcome == BootOutcome::EarlyExit;
        // A guest still busy at the time limit did not finish its tests.
        if (!(expect.expect_report && boot.outcome == BootOutcome::Panic))
            raise(kernel_side ? kExitKernelReport : kExitTestFailure, fmt::format("guest: {}", to_string(boot.outcome)));
    }
    auto groups = boot.report_groups;
    if (expect.expect_report) {
        bool found = false;
        for (const auto& g : groups)
            for (const auto& sig : g.signatures)
                found |= sig.find(expect.expect_signature) != std::string::npos;
        if (!found)
            raise(kExitTestFailure, fmt::format("expected a kernel report matching '{}', saw none", expect.expect_signature));
    } else if (!groups.empty()) {
        raise(kExitKernelReport, fmt::format("{} kernel report(s), {} unique", total_reports(groups), groups.size()));
    }
    int failed_suites = 0;
    for (const auto& t : boot.tests)
        if (!count_tests(t).ok() || t.status == TestStatus::Fail || t.status == TestStatus::Crashed ||
            t.status == TestStatus::Error)
            ++failed_suites;
    if (failed_suites > 0) raise(kExitTestFailure, fmt::format("{} suite(s) failed", failed_suites));
    for (const auto& name : expect.expect_suites) {
        bool ran = false;
        for (const auto& t : boot.tests) ran |= t.name == name;
        if (!ran) raise(kExitTestFailure, fmt::format("suite {} did not run", name));
    }
    if (boot.tests.empty() && expect.expect_suites.empty() && !expect.expect_report)
        raise(kExitTestFailure, "no test results on the console");
    return v;
}

nlohmann::json results_json(const RunInfo& info, const BootResult& boot, const Verdict& verdict) {
    json j;
    j["schema_version"] = 1;  // Documentation/results-schema.json
    j["label"] = info.label;
    j["kernel_tree"] = info.kernel_tree;
    j["patches"] = info.patches;
    j["build"] = {{"seconds", info.build_seconds}, {"compiled_objects", info.compiled}};
    const StressStats& st = boot.stress;
    if (info.trinity_seconds > 0 || st.seen) {
        j["trinity"] = {{"seed", info.trinity_seconds > 0 ? info.trinity_seed : st.first_seed},
                        {"seconds", info.trinity_seconds > 0 ? info.trinity_seconds : st.planned_seconds}};
        if (st.seen) {
            json churners = json::object();
            for (const auto& c : st.churners) churners[c.name] = {{"rounds", c.rounds}, {"effective", c.effective}};
            j["trinity"]["session"] = {{"finished", st.finished},
                                       {"seconds", st.seconds},
                                       {"syscalls", st.syscalls},
                                       {"syscalls_per_second", st.syscalls_per_second()},
                                       {"runs", st.runs},
                                       {"runs_ended_early", st.ended_early},
                                       {"seeds", {st.first_seed, st.last_seed}},
                                       {"churners", churners},
                                       {"vmstat_delta", st.vmstat_delta}};
            if (const StressNgStats& sng = st.stress_ng; sng.seen) {
                json s = {{"seconds", sng.planned_seconds}, {"bogo_ops", sng.bogo_ops}, {"problems", sng.problems}};
                s["exit_code"] = sng.exit_code ? json(*sng.exit_code) : json(nullptr);
                j["trinity"]["session"]["stress_ng"] = s;
            }
        }
    }
    j["boot"] = {{"outcome", to_string(boot.outcome)},
                 {"accel", boot.accel},
                 {"seconds", boot.seconds},
                 {"qemu_exit", boot.qemu_exit},
                 {"kernel_release", boot.kernel_release},
                 {"console_lines", boot.console_lines},
                 {"qemu_argv", boot.qemu_argv}};
    if (boot.last_result_seconds) j["boot"]["last_result_seconds"] = *boot.last_result_seconds;
    if (boot.last_kunit_printk_time) j["boot"]["last_kunit_printk_time"] = *boot.last_kunit_printk_time;
    j["suites"] = json::array();
    for (const auto& t : boot.tests) {
        auto c = count_tests(t);
        json s = test_json(t);
        s["counts"] = {{"pass", c.passed}, {"fail", c.failed}, {"skip", c.skipped},
                       {"crashed", c.crashed}, {"not_run", c.not_run}};
        j["suites"].push_back(s);
    }
    j["reports"] = json::array();
    for (const auto& g : boot.report_groups) {
        const auto& r = g.first;
        j["reports"].push_back({{"signature", r.signature}, {"title", r.title}, {"alt_titles", r.alt_titles},
                                {"signatures", g.signatures}, {"kind", r.kind}, {"message", r.message},
                                {"function", r.function}, {"file", r.file}, {"count", g.count},
                                {"fatal", r.fatal}, {"console_lines", {r.first_line, r.last_line}},
                                {"printk_time", r.timestamp ? nlohmann::json(*r.timestamp) : nlohmann::json()},
                                {"context", r.context}});
    }
    j["exit_code"] = verdict.exit_code;
    j["reasons"] = verdict.reasons;
    return j;
}

void write_results_json(const fs::path& path, const RunInfo& info, const BootResult& boot, const Verdict& verdict) {
    write_file_atomically(path, results_json(info, boot, verdict).dump(2) + "\n");
}

void write_reports_text(const fs::path& path, const BootResult& boot) {
    std::ostringstream out;
    auto groups = boot.report_groups;
    out << fmt::format("{} kernel report(s), {} unique\n", total_reports(groups), groups.size());
    for (const auto& g : groups) {
        const auto& r = g.first;
        out << fmt::format("\n=== {}x {}\nfirst at console.log:{}-{}{}\n", g.count, r.signature, r.first_line,
                           r.last_line, r.timestamp ? fmt::format(", printk time {:.6f}", *r.timestamp) : "");
        for (const auto& l : r.context) out << l << "\n";
    }
    write_file_atomically(path, out.str());
}

void write_junit_xml(const fs::path& path, const RunInfo& info, const BootResult& boot) {
    pugi::xml_document doc;
    auto root = doc.append_child("testsuites");
    root.append_attribute("name") = ("mmguard " + info.label).c_str();
    for (const auto& t : boot.tests) {
        auto suite = root.append_child("testsuite");
        suite.append_attribute("name") = t.name.c_str();
        JunitCounts c;
        junit_cases(suite, t, "", c);
        suite.append_attribute("tests") = c.tests;
        suite.append_attribute("failures") = c.failures;
        suite.append_attribute("errors") = c.errors;
        suite.append_attribute("skipped") = c.skipped;
    }
    auto groups = boot.report_groups;
    auto suite = root.append_child("testsuite");
    suite.append_attribute("name") = "kernel-reports";
    // "guest completed" is a test case too: a guest that did not complete is a failure.
    bool completed = boot.outcome == BootOutcome::Completed;
    suite.append_attribute("tests") = static_cast<int>(groups.size()) + 1;
    suite.append_attribute("failures") = static_cast<int>(groups.size()) + (completed ? 0 : 1);
    suite.append_attribute("errors") = 0;
    suite.append_attribute("skipped") = 0;
    auto outcome = suite.append_child("testcase");
    outcome.append_attribute("name") = "guest completed";
    outcome.append_attribute("classname") = "kernel-reports";
    if (!completed)
        outcome.append_child("failure").append_attribute("message") = to_string(boot.outcome);
    for (const auto& g : groups) {
        auto tc = suite.append_child("testcase");
        tc.append_attribute("name") = g.first.signature.c_str();
        tc.append_attribute("classname") = "kernel-reports";
        auto f = tc.append_child("failure");
        f.append_attribute("message") = fmt::format("{} ({}x)", g.first.signature, g.count).c_str();
        f.text().set(join_lines(g.first.context).c_str());
    }
    std::ostringstream xml;
    doc.save(xml, "  ");
    write_file_atomically(path, xml.str());
}

void print_summary(const RunInfo& info, const BootResult& boot, const Verdict& verdict, const fs::path& out_dir) {
    fmt::print("\n{:<40} {:>5} {:>5} {:>5} {:>7}  {}\n", "suite (" + info.label + ")", "pass", "fail", "skip", "crashed", "status");
    for (const auto& t : boot.tests) {
        auto c = count_tests(t);
        fmt::print("{:<40} {:>5} {:>5} {:>5} {:>7}  {}\n", t.name, c.passed, c.failed, c.skipped,
                   c.crashed + c.not_run, to_string(t.status));
    }
    auto groups = boot.report_groups;
    fmt::print("\nkernel reports: {} ({} unique)\n", total_reports(groups), groups.size());
    for (const auto& g : groups)
        fmt::print("  {:>3}x  {}  (console.log:{})\n", g.count, g.first.signature, g.first.first_line);
    fmt::print("\nguest: {} in {} ({}, {}){}\n", to_string(boot.outcome), format_duration(boot.seconds), boot.accel,
               boot.kernel_release.empty() ? "kernel ?" : boot.kernel_release,
               boot.last_result_seconds ? fmt::format(", last result at {}", format_duration(*boot.last_result_seconds)) : "");
    if (info.trinity_seconds > 0)
        fmt::print("trinity: {} s with seed {} (rerun: --trinity-seed {})\n", info.trinity_seconds, info.trinity_seed,
                   info.trinity_seed);
    if (const StressStats& st = boot.stress; st.seen) {
        if (st.finished)
            fmt::print("trinity session: {} syscalls in {:.0f} s ({:.0f}/s), {} run(s), {} ended early, seeds {}..{}\n",
                       st.syscalls, st.seconds, st.syscalls_per_second(), st.runs, st.ended_early, st.first_seed,
                       st.last_seed);
        else
            fmt::print("trinity session cut short after at least {:.1f} s of {} s: at least {} syscalls, seeds {}..{}\n",
                       st.seconds, st.planned_seconds, st.syscalls, st.first_seed, st.last_seed);
        if (!st.churners.empty()) {
            std::string line;
            for (const auto& c : st.churners) line += fmt::format(" {} {}/{}", c.name, c.rounds, c.effective);
            fmt::print("churners (rounds/effective):{}\n", line);
        }
        if (const StressNgStats& sng = st.stress_ng; sng.seen) {
            std::string ops;
            for (const auto& [name, n] : sng.bogo_ops) ops += fmt::format(" {} {}", name, n);
            fmt::print("stress-ng: {} s, {}, bogo-ops:{}\n", sng.planned_seconds,
                       sng.exit_code ? fmt::format("exit {}", *sng.exit_code) : std::string("no exit seen"),
                       ops.empty() ? " none" : ops);
            for (const auto& p : sng.problems) fmt::print("  stress-ng: {}\n", p);
        }
    }
    fmt::print("reports: {}/results.json, junit.xml, reports.txt, console.log\n", out_dir.string());
    if (verdict.exit_code == kExitPass) fmt::print("RESULT: PASS\n");
    else fmt::print("RESULT: FAIL (exit {}): {}\n", verdict.exit_code, fmt::join(verdict.reasons, "; "));
}

}  // namespace mmguard
