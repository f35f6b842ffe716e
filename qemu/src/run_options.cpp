#include "run_options.h"

#include <ctime>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {

Workspace workspace_paths(const RunOptions& o) {
    Workspace ws;
    ws.project = fs::absolute(o.project).lexically_normal();
    ws.work = fs::absolute(o.work.empty() ? ws.project / "build" : fs::path(o.work)).lexically_normal();
    ws.out = fs::absolute(o.out.empty() ? ws.project / "out" : fs::path(o.out)).lexically_normal();
    return ws;
}

Workspace make_workspace(const RunOptions& o, const std::string& label) {
    Workspace ws = workspace_paths(o);
    fs::path out_root = ws.out;
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);   // the proof matrix's build queue calls this from a second thread
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    ws.out = out_root / fmt::format("{}-{}", stamp, label);
    fs::create_directories(ws.out);
    fs::create_directories(ws.work);
    std::error_code ec;
    fs::remove(out_root / "latest", ec);
    fs::create_directory_symlink(ws.out.filename(), out_root / "latest", ec);
    return ws;
}

bool runs_churner(const RunOptions& o, const std::string& name) {
    for (const auto& c : o.churners)
        if (c == "all" || c == name) return true;
    return false;
}

bool appended(const RunOptions& o, const std::string& prefix) {
    for (const auto& a : o.append)
        if (a.rfind(prefix, 0) == 0) return true;
    return false;
}

// `mmguard stress`: `run` with a stress session's defaults for every option
// the command line left out.
void apply_stress_defaults(RunOptions& o, CLI::App* cmd) {
    auto given = [&](const char* opt) { return cmd->count(opt) > 0; };
    if (!given("--cpus")) o.cpus = 3;
    o.tsc_clock = true;
    if (!given("--selftest")) o.no_selftests = true;
    if (!given("--kunit-filter")) o.kunit_filter = "none";
    if (!given("--trinity-seconds")) o.trinity_seconds = 300;
    if (!given("--churn")) o.churners = {"all"};
    if (!given("--stress-ng")) o.stress_ng_seconds = o.trinity_seconds / 2;
    if (!given("--timeout")) o.total_timeout = o.trinity_seconds + 600;
    // trinity's vm group has mbind, migrate_pages and move_pages (fork is
    // one it never calls); the NUMA policy calls are outside the group, so
    // they are added, and two fake NUMA nodes give the migrations somewhere
    // to go.
    if (!given("--trinity-args")) o.trinity_args += " -c set_mempolicy -c get_mempolicy -c set_mempolicy_home_node";
    if (!appended(o, "numa=")) o.append.push_back("numa=fake=2");
    if (o.label.empty()) o.label = o.base ? "stress-base" : "stress";
}

std::string label_of(const RunOptions& o) {
    if (!o.label.empty()) return o.label;
    if (!o.mutations.empty()) return "mutation-" + fs::path(o.mutations.front()).stem().string();
    return o.base ? "base" : "patched";
}

void add_tree_options(CLI::App* app, RunOptions& o) {
    app->add_option("--ksrc", o.ksrc, "use this kernel tree (read only) instead of Debian's linux-source-6.12");
    app->add_option("--tarball", o.tarball, "Debian kernel source tarball");
    app->add_flag("--base", o.base, "base kernel: no project patches (the KUnit hook is still added)");
    app->add_option("--mutation", o.mutations, "apply patches/mutations/NAME.patch on top");
    app->add_flag("--force", o.force, "discard local edits in build/src");
}

void add_guest_options(CLI::App* app, RunOptions& o) {
    app->add_option("--selftest", o.selftests, "run only these selftests (default: all)");
    app->add_flag("--no-selftests", o.no_selftests, "boot for KUnit only");
    app->add_option("--selftest-timeout", o.selftest_timeout, "seconds per selftest program");
    app->add_option("--trinity-seconds", o.trinity_seconds, "a trinity session of this many seconds after the selftests (0: none)")
        ->capture_default_str();
    app->add_option("--trinity-seed", o.trinity_seed, "trinity's seed (default: random, printed and stored)");
    app->add_option("--trinity-children", o.trinity_children, "trinity child processes")->capture_default_str();
    app->add_option("--trinity-args", o.trinity_args, "trinity's syscall selection")->capture_default_str();
    app->add_option("--churn", o.churners,
                    "mm churners beside trinity: all, or any of min_free_kbytes compaction thp cpu_hotplug "
                    "cma memory drop_caches kpageflags thp_fork (repeated or comma-separated); none for no churner")
        ->delimiter(',');
    app->add_option("--stress-ng", o.stress_ng_seconds,
                    "stress-ng's memory stressors (qemu/guest/stress-ng.args) beside trinity for the first N seconds "
                    "of the session (0: none; mmguard stress: half the session)")
        ->check(CLI::NonNegativeNumber);
}

void add_boot_options(CLI::App* app, RunOptions& o) {
    app->add_option("--accel", o.accel, "auto (KVM if it works here), kvm or tcg")->check(CLI::IsMember({"auto", "kvm", "tcg"}));
    app->add_option("--cpus", o.cpus, "vCPUs")->check(CLI::Range(1, 64));
    app->add_option("--memory", o.memory, "guest memory (QEMU -m syntax)");
    app->add_option("--append", o.append, "extra kernel command line words");
    app->add_option("--kunit-filter", o.kunit_filter, "kunit.filter_glob for the boot");
    app->add_option("--silence-timeout", o.silence_timeout, "seconds without console output that count as a hang");
    app->add_option("--timeout", o.total_timeout, "seconds for the whole boot");
    app->add_option("--host-cpus", o.host_cpus,
                    "run QEMU on only this many host CPUs (taskset; 0: all): with more vCPUs than that, the host "
                    "stops vCPUs anywhere, which widens race windows")
        ->check(CLI::Range(0, 1024));
    app->add_flag("--tsc-clock", o.tsc_clock,
                  "under TCG, give the guest the host's TSC frequency (tsc_early_khz=) so its clock keeps time "
                  "(default for stress)");
    app->add_option("--label", o.label, "name of this run in out/ and reports");
    app->add_option("--repeat", o.repeat,
                    "boot the kernel this many times (built once) and count each test's passes; any failure or "
                    "flake fails the run")
        ->check(CLI::Range(1, 1000));
    app->add_option("--expect-report", o.expect_report,
                    "harness self-test: pass only if a kernel report whose signature contains this appears");
    app->add_option("--expect-suite", o.expect_suites, "fail unless this top-level suite ran");
    app->add_option("--stop-after-report", o.stop_after_reports,
                    "end the boot as soon as a kernel report whose title or signature matches this RE2 has been "
                    "seen (repeat: once each has); for boots run only to show a report");
}

void parse_run_words(RunOptions& o, const std::vector<std::string>& words, const std::string& where) {
    CLI::App app{"run options"};
    app.allow_extras(false);
    add_tree_options(&app, o);
    add_guest_options(&app, o);
    add_boot_options(&app, o);
    std::vector<std::string> reversed(words.rbegin(), words.rend());  // CLI11 takes them last-first
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        throw HarnessError(fmt::format("{}: {} in '{}'", where, e.what(), fmt::join(words, " ")));
    }
}

}  // namespace mmguard
