// mmguard: prepare a 6.12 tree with the project's patches, build it, boot it
// in QEMU, and judge KUnit, selftests and the kernel's own reports.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <random>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "gates.h"
#include "initramfs.h"
#include "kcidb.h"
#include "kernel_build.h"
#include "kernel_tree.h"
#include "mutate_command.h"
#include "process.h"
#include "progress.h"
#include "qemu_boot.h"
#include "run_report.h"
#include "series_files.h"

using namespace mmguard;

namespace {

struct Options {
    std::string project = ".";
    std::string work;
    std::string out;
    // tree
    std::string ksrc;
    std::string tarball = "/usr/src/linux-source-6.12.tar.xz";
    bool base = false;
    std::vector<std::string> mutations;
    bool force = false;
    // build
    int jobs = 0;
    // guest
    std::vector<std::string> selftests;
    bool no_selftests = false;
    int selftest_timeout = 300;
    int trinity_seconds = 0;
    unsigned trinity_seed = 0;      // 0: pick one at random
    int trinity_children = 2;
    std::string trinity_args = "-g vm -x remap_file_pages -x get_robust_list --disable-fds=sockets";
    std::vector<std::string> churners;
    // boot
    std::string accel = "auto";
    int cpus = 2;
    std::string memory = "2G";
    std::vector<std::string> append;
    std::string kunit_filter;
    int silence_timeout = 120;
    int total_timeout = 1200;
    bool tsc_clock = false;
    int host_cpus = 0;
    std::string label;
    std::string expect_report;
    std::vector<std::string> expect_suites;
    std::string series_dir = "out/series";
    std::string series_mode;   // "", "check" or "update"
};

Workspace workspace(const Options& o, const std::string& label) {
    Workspace ws;
    ws.project = fs::absolute(o.project).lexically_normal();
    ws.work = fs::absolute(o.work.empty() ? ws.project / "build" : fs::path(o.work)).lexically_normal();
    fs::path out_root = fs::absolute(o.out.empty() ? ws.project / "out" : fs::path(o.out)).lexically_normal();
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    ws.out = out_root / fmt::format("{}-{}", stamp, label);
    fs::create_directories(ws.out);
    fs::create_directories(ws.work);
    std::error_code ec;
    fs::remove(out_root / "latest", ec);
    fs::create_directory_symlink(ws.out.filename(), out_root / "latest", ec);
    return ws;
}

// Whether the session runs churner `name` ("all" runs every one).
bool runs_churner(const Options& o, const std::string& name) {
    for (const auto& c : o.churners)
        if (c == "all" || c == name) return true;
    return false;
}

bool appended(const Options& o, const std::string& prefix) {
    for (const auto& a : o.append)
        if (a.rfind(prefix, 0) == 0) return true;
    return false;
}

// `mmguard stress`: `run` with a stress session's defaults for every option
// the command line left out.
void apply_stress_defaults(Options& o, CLI::App* cmd) {
    auto given = [&](const char* opt) { return cmd->count(opt) > 0; };
    if (!given("--cpus")) o.cpus = 3;
    o.tsc_clock = true;
    if (!given("--selftest")) o.no_selftests = true;
    if (!given("--kunit-filter")) o.kunit_filter = "none";
    if (!given("--trinity-seconds")) o.trinity_seconds = 300;
    if (!given("--churn")) o.churners = {"all"};
    if (!given("--timeout")) o.total_timeout = o.trinity_seconds + 600;
    // trinity's vm group has mbind, migrate_pages and move_pages (fork is
    // one it never calls); the NUMA policy calls are outside the group, so
    // they are added, and two fake NUMA nodes give the migrations somewhere
    // to go.
    if (!given("--trinity-args")) o.trinity_args += " -c set_mempolicy -c get_mempolicy -c set_mempolicy_home_node";
    if (!appended(o, "numa=")) o.append.push_back("numa=fake=2");
    if (o.label.empty()) o.label = o.base ? "stress-base" : "stress";
}

std::string label_of(const Options& o) {
    if (!o.label.empty()) return o.label;
    if (!o.mutations.empty()) return "mutation-" + fs::path(o.mutations.front()).stem().string();
    return o.base ? "base" : "patched";
}

PreparedTree prepare(const Workspace& ws, const Options& o) {
    Stage stage("prepare", o.ksrc.empty() ? o.tarball : "KSRC=" + o.ksrc + " (read only)");
    TreeOptions t;
    t.tarball = o.tarball;
    t.ksrc = o.ksrc;
    t.apply_series = !o.base;
    t.force = o.force;
    for (const auto& m : o.mutations) {
        fs::path p = m;
        if (fs::exists(p))
            p = fs::absolute(p);  // git apply runs in the kernel tree
        else
            p = ws.patches() / "mutations" / (m + (p.extension() == ".patch" ? "" : ".patch"));
        t.extra.push_back(p);
    }
    PreparedTree tree = prepare_tree(ws, t);
    fmt::print("    linux {} + {} patch(es){}\n", tree.kernel_version, tree.applied.size(),
               tree.checked_out ? "" : " (tree unchanged)");
    for (const auto& s : tree.applied) fmt::print("      {}\n", s);
    return tree;
}

BuildResult build(const Workspace& ws, const Options& o) {
    BuildOptions b;
    b.jobs = o.jobs;
    b.log = ws.out / "build.log";
    BuildResult r = build_kernel(ws, b);
    fmt::print("    {} objects compiled{}\n", r.compiled, r.compiled == 0 ? " (nothing changed)" : "");
    return r;
}

Initramfs initramfs(const Workspace& ws, Options& o) {
    if (o.trinity_seconds > 0 && o.trinity_seed == 0) o.trinity_seed = std::random_device{}() | 1u;
    GuestPlan plan;
    plan.trinity_seconds = o.trinity_seconds;
    plan.trinity_seed = o.trinity_seed;
    plan.trinity_children = o.trinity_children;
    plan.trinity_args = o.trinity_args;
    plan.churners = o.churners;
    plan.selftests = o.selftests;
    plan.run_selftests = !o.no_selftests;
    plan.selftest_timeout = o.selftest_timeout;
    Initramfs ird = build_initramfs(ws, plan, ws.out / "initramfs.log");
    fmt::print("    selftests: {}\n", ird.selftests.empty() ? "none" : fmt::format("{}", fmt::join(ird.selftests, " ")));
    if (ird.trinity)
        fmt::print("    trinity: {} s, {} children, seed {} (rerun it with --trinity-seed {}), {}{}\n", o.trinity_seconds,
                   o.trinity_children, o.trinity_seed, o.trinity_seed, o.trinity_args,
                   o.churners.empty() ? "" : fmt::format(", churners: {}", fmt::join(o.churners, " ")));
    return ird;
}

BootResult boot(const Workspace& ws, const Options& o, const fs::path& initrd) {
    BootOptions b;
    b.kernel = ws.bzimage();
    b.initrd = initrd;
    b.accel = o.accel;
    b.cpus = o.cpus;
    b.memory = o.memory;
    b.cmdline = o.append;
    // The CMA churner needs a CMA area (x86 has none by default); the memory
    // churner needs blocks that can go offline: ZONE_MOVABLE ones.
    if (runs_churner(o, "cma") && !appended(o, "cma=")) b.cmdline.push_back("cma=64M");
    if (runs_churner(o, "memory") && !appended(o, "movablecore=")) b.cmdline.push_back("movablecore=512M");
    if (!o.kunit_filter.empty()) b.cmdline.push_back("kunit.filter_glob=" + o.kunit_filter);
    b.tsc_clock = o.tsc_clock;
    b.host_cpus = o.host_cpus;
    b.silence_timeout = o.silence_timeout;
    b.total_timeout = o.total_timeout;
    b.out_dir = ws.out;
    b.state_dir = ws.work;
    Stage stage("boot", fmt::format("{} vCPUs{}, {} memory, console {}", o.cpus,
                                    o.host_cpus > 0 ? fmt::format(" on {} host CPU(s)", o.host_cpus) : "",
                                    o.memory, (ws.out / "console.log").string()));
    BootObserver obs;
    obs.on_result = [](const TestResult& t) {
        auto c = count_tests(t);
        fmt::print("    {:<8} {} ({} passed, {} failed, {} skipped)\n", to_string(t.status), t.name, c.passed,
                   c.failed + c.crashed + c.not_run, c.skipped);
        std::fflush(stdout);
    };
    obs.on_report = [](const KernelReport& r) {
        fmt::print("    REPORT   {} (console.log:{})\n", r.signature, r.first_line);
        std::fflush(stdout);
    };
    return boot_kernel(b, obs);
}

int finish_run(const Workspace& ws, const Options& o, const RunInfo& info, const BootResult& result) {
    Expectations e;
    e.expect_report = !o.expect_report.empty();
    e.expect_signature = o.expect_report;
    e.expect_suites = o.expect_suites;
    Verdict v = judge(result, e);
    write_results_json(ws.out / "results.json", info, result, v);
    write_kcidb_json(ws, !o.base, o.mutations);
    write_junit_xml(ws.out / "junit.xml", info, result);
    write_reports_text(ws.out / "reports.txt", result);
    print_summary(info, result, v, ws.out);
    return v.exit_code;
}

// `mmguard series`: export (default), --check or --update (series_files.h).
int run_series(const Workspace& ws, const Options& o) {
    PreparedTree tree = prepare(ws, o);
    auto names = read_series(ws.patches() / "series");
    if (o.series_mode == "update") {
        auto files = format_series_commits(ws, tree, ws.out / "format-patch");
        update_series(files, names, ws.patches());
        fmt::print("{} patch files rewritten by git format-patch in {}\n", files.size(), ws.patches().string());
        return kExitPass;
    }
    if (o.series_mode == "check") {
        SeriesCheck c = check_series(ws, tree, ws.out);
        for (const auto& d : c.drift) fmt::print("    DRIFT    {}: {}\n", d.name, d.why);
        fmt::print("    {:<8} {} of {} patch files are git format-patch output of the stack over the base\n",
                   c.drift.empty() ? "ok" : "FAIL", c.patches - c.drift.size(), c.patches);
        fmt::print("    {:<8} git am of the {} exported files onto the base gives the tree the tool builds ({})\n",
                   c.am_tree == c.built_tree ? "ok" : "FAIL", c.exported.size(), c.am_tree.substr(0, 12));
        return c.ok() ? kExitPass : kExitTestFailure;
    }
    auto files = export_series_with_cover(ws, tree, fs::absolute(o.series_dir));
    fmt::print("{} files in {}:\n", files.size(), o.series_dir);
    for (const auto& f : files) fmt::print("  {}\n", f.filename().string());
    return kExitPass;
}

void add_tree_options(CLI::App* app, Options& o) {
    app->add_option("--ksrc", o.ksrc, "use this kernel tree (read only) instead of Debian's linux-source-6.12");
    app->add_option("--tarball", o.tarball, "Debian kernel source tarball");
    app->add_flag("--base", o.base, "base kernel: no project patches (the KUnit hook is still added)");
    app->add_option("--mutation", o.mutations, "apply patches/mutations/NAME.patch on top");
    app->add_flag("--force", o.force, "discard local edits in build/src");
}

void add_guest_options(CLI::App* app, Options& o) {
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
}

void add_boot_options(CLI::App* app, Options& o) {
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
    app->add_option("--expect-report", o.expect_report,
                    "harness self-test: pass only if a kernel report whose signature contains this appears");
    app->add_option("--expect-suite", o.expect_suites, "fail unless this top-level suite ran");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"mmguard: build, boot and judge a hardened Linux 6.12 mm"};
    app.require_subcommand(1);
    Options o;
    app.add_option("--project", o.project, "the mmguard checkout")->capture_default_str();
    app.add_option("--work", o.work, "build directory kept between runs (default PROJECT/build)");
    app.add_option("--out", o.out, "where run reports go (default PROJECT/out)");
    app.add_option("-j,--jobs", o.jobs, "parallel build jobs (default CPUs+1)");

    auto* prepare_cmd = app.add_subcommand("prepare", "import the kernel source and apply patches/series");
    add_tree_options(prepare_cmd, o);
    auto* build_cmd = app.add_subcommand("build", "prepare, configure and build the kernel");
    add_tree_options(build_cmd, o);
    auto* initramfs_cmd = app.add_subcommand("initramfs", "build the selftests and the initramfs");
    add_guest_options(initramfs_cmd, o);
    auto* boot_cmd = app.add_subcommand("boot", "boot the built kernel and judge its console");
    add_guest_options(boot_cmd, o);
    add_boot_options(boot_cmd, o);
    auto* run_cmd = app.add_subcommand("run", "prepare, build, initramfs, boot, report");
    add_tree_options(run_cmd, o);
    add_guest_options(run_cmd, o);
    add_boot_options(run_cmd, o);
    auto* stress_cmd = app.add_subcommand(
        "stress", "run a trinity stress session: like run, but by default 3 vCPUs, no selftests, no KUnit, "
                  "--trinity-seconds 300, --churn all, --timeout trinity-seconds + 600");
    add_tree_options(stress_cmd, o);
    add_guest_options(stress_cmd, o);
    add_boot_options(stress_cmd, o);
    std::string console_file;
    auto* parse_cmd = app.add_subcommand("parse", "judge a saved console log");
    parse_cmd->add_option("console", console_file, "console.log of an earlier boot")->required()->check(CLI::ExistingFile);
    parse_cmd->add_option("--label", o.label, "name of this run");
    parse_cmd->add_option("--expect-report", o.expect_report, "pass only if such a report appears");
    auto* series_cmd = app.add_subcommand("series", "export the stack (patches + KUnit suites) as git format-patch files");
    add_tree_options(series_cmd, o);
    series_cmd->add_option("--dir", o.series_dir, "output folder")->capture_default_str();
    series_cmd->add_flag("--check{check}", o.series_mode,
                         "check that patches/*.patch are exactly what git format-patch writes from the stack "
                         "(no offset, no fuzz) and that git am of the export gives the tree the tool builds");
    series_cmd->add_flag("--update{update}", o.series_mode,
                         "rewrite patches/*.patch (and their names in patches/series) with git format-patch "
                         "from the stack's commits");

    GatesOptions gates;
    auto* gates_cmd = app.add_subcommand(
        "gates", "the kernel's own gates: format-patch series + git am, checkpatch --strict, every touched object "
                 "built with W=1 (and sparse) in each configuration of qemu/gates/configs/, compared with base");
    gates_cmd->add_option("--ksrc", o.ksrc, "use this kernel tree (read only) instead of Debian's linux-source-6.12");
    gates_cmd->add_option("--tarball", o.tarball, "Debian kernel source tarball");
    gates_cmd->add_flag("--force", o.force, "discard local edits in build/src");
    gates_cmd->add_flag("--fast", gates.fast, "only the configurations marked fast (what make check runs)");
    gates_cmd->add_option("--config", gates.configs, "only these configurations (names from qemu/gates/configs/)");

    auto mutate = add_mutate_command(app);

    CLI11_PARSE(app, argc, argv);
    gates.jobs = o.jobs;
    if (stress_cmd->parsed()) apply_stress_defaults(o, stress_cmd);
    install_interrupt_handlers();
    if (mutate->cmd->parsed()) return run_mutate_command(*mutate, o.project, o.work, o.out, o.jobs);
    // Before out/latest moves to this run's folder, which may be where it pointed.
    if (parse_cmd->parsed()) console_file = fs::canonical(console_file).string();
    std::string label = gates_cmd->parsed() ? (gates.fast ? "gates-fast" : "gates") : label_of(o);
    if (parse_cmd->parsed()) label = o.label.empty() ? "parse" : o.label;
    try {
        Workspace ws = workspace(o, label);
        RunInfo info;
        info.label = label;
        if (parse_cmd->parsed()) {
            ConsoleSession session((ws.out / "console.log").string(), 1ull << 30);
            std::ifstream in(console_file, std::ios::binary);
            std::vector<char> buf(1 << 16);
            while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
                session.feed(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
            bool complete = session.done_marker_seen();
            session.finish(session.panicked() ? EndReason::KernelCrash : EndReason::EndOfOutput);
            BootResult r;
            r.outcome = session.panicked() ? BootOutcome::Panic : complete ? BootOutcome::Completed : BootOutcome::EarlyExit;
            r.tests = session.results();
            r.reports = session.reports();
            r.report_groups = session.report_groups();
            r.kernel_release = session.kernel_release();
            r.console_lines = session.lines();
            r.stress = session.stress();
            r.accel = "none (saved console)";
            return finish_run(ws, o, info, r);
        }
        if (series_cmd->parsed()) return run_series(ws, o);
        if (gates_cmd->parsed()) {
            TreeOptions t;
            t.tarball = o.tarball;
            t.ksrc = o.ksrc;
            t.force = o.force;
            return run_gates(ws, t, gates);
        }
        if (prepare_cmd->parsed()) {
            prepare(ws, o);
            return kExitPass;
        }
        if (build_cmd->parsed() || run_cmd->parsed() || stress_cmd->parsed()) {
            PreparedTree tree = prepare(ws, o);
            BuildResult b = build(ws, o);
            info.kernel_tree = tree.head_commit;
            info.patches = tree.applied;
            info.build_seconds = b.seconds;
            info.compiled = b.compiled;
            if (build_cmd->parsed()) return kExitPass;
        }
        if (initramfs_cmd->parsed()) {
            initramfs(ws, o);
            return kExitPass;
        }
        Initramfs ird = initramfs(ws, o);
        info.trinity_seed = ird.trinity ? o.trinity_seed : 0;
        info.trinity_seconds = ird.trinity ? o.trinity_seconds : 0;
        BootResult result = boot(ws, o, ird.cpio);
        int code = finish_run(ws, o, info, result);
        return interrupted() ? kExitInterrupted : code;
    } catch (const Interrupted&) {
        fmt::print(stderr, "mmguard: interrupted; children stopped\n");
        return kExitInterrupted;
    } catch (const HarnessError& e) {
        fmt::print(stderr, "mmguard: error: {}\n", e.what());
        return kExitHarnessError;
    } catch (const std::exception& e) {
        fmt::print(stderr, "mmguard: error: {}\n", e.what());
        return kExitHarnessError;
    }
}
