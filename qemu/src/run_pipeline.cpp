#include "run_pipeline.h"

#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "file_io.h"
#include "kcidb.h"
#include "progress.h"

namespace mmguard {

PreparedTree run_prepare(const Workspace& ws, const RunOptions& o) {
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

BuildResult run_build(const Workspace& ws, const RunOptions& o) {
    BuildOptions b;
    b.jobs = o.jobs;
    b.log = ws.out / "build.log";
    b.extra_fragments = o.extra_fragments;
    BuildResult r = build_kernel(ws, b);
    fmt::print("    {} objects compiled{}\n", r.compiled, r.compiled == 0 ? " (nothing changed)" : "");
    return r;
}

Initramfs run_initramfs(const Workspace& ws, RunOptions& o) {
    if (o.trinity_seconds > 0 && o.trinity_seed == 0) o.trinity_seed = std::random_device{}() | 1u;
    GuestPlan plan;
    plan.trinity_seconds = o.trinity_seconds;
    plan.trinity_seed = o.trinity_seed;
    plan.trinity_children = o.trinity_children;
    plan.trinity_args = o.trinity_args;
    plan.churners = o.churners;
    plan.stress_ng_seconds = o.stress_ng_seconds;
    plan.selftests = o.selftests;
    plan.run_selftests = !o.no_selftests;
    plan.selftest_timeout = o.selftest_timeout;
    for (const auto& [name, host] : o.extra_files) plan.extra_files.emplace_back(name, host);
    plan.extra_run = o.extra_run;
    Initramfs ird = build_initramfs(ws, plan, ws.out / "initramfs.log");
    fmt::print("    selftests: {}\n", ird.selftests.empty() ? "none" : fmt::format("{}", fmt::join(ird.selftests, " ")));
    if (ird.trinity)
        fmt::print("    trinity: {} s, {} children, seed {} (rerun it with --trinity-seed {}), {}{}\n", o.trinity_seconds,
                   o.trinity_children, o.trinity_seed, o.trinity_seed, o.trinity_args,
                   o.churners.empty() ? "" : fmt::format(", churners: {}", fmt::join(o.churners, " ")));
    return ird;
}

BootObserver progress_observer() {
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
    return obs;
}

BootResult run_boot(const Workspace& ws, const RunOptions& o, const fs::path& initrd) {
    BootOptions b;
    b.kernel = o.kernel_image.empty() ? ws.bzimage() : fs::path(o.kernel_image);
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
    b.stop_after_reports = o.stop_after_reports;
    b.out_dir = ws.out;
    b.state_dir = ws.work;
    Stage stage("boot", fmt::format("{} vCPUs{}, {} memory, console {}", o.cpus,
                                    o.host_cpus > 0 ? fmt::format(" on {} host CPU(s)", o.host_cpus) : "",
                                    o.memory, (ws.out / "console.log").string()));
    return boot_kernel(b, progress_observer());
}

RunResult run_finish(const Workspace& ws, const RunOptions& o, const RunInfo& info, BootResult boot) {
    Expectations e;
    e.expect_report = !o.expect_report.empty();
    e.expect_signature = o.expect_report;
    e.expect_suites = o.expect_suites;
    RunResult r;
    r.info = info;
    r.boot = std::move(boot);
    r.verdict = judge(r.boot, e);
    r.out = ws.out;
    nlohmann::json results = results_json(r.info, r.boot, r.verdict);
    write_file_atomically(ws.out / "results.json", results.dump(2) + "\n");
    write_kcidb_json(ws, results, !o.base, o.mutations);
    write_junit_xml(ws.out / "junit.xml", r.info, r.boot);
    write_reports_text(ws.out / "reports.txt", r.boot);
    print_summary(r.info, r.boot, r.verdict, ws.out);
    return r;
}

RunInfo run_prepare_and_build(const Workspace& ws, const RunOptions& o, const std::string& label) {
    RunInfo info;
    info.label = label;
    PreparedTree tree = run_prepare(ws, o);
    BuildResult b = run_build(ws, o);
    info.kernel_tree = tree.head_commit;
    info.patches = tree.applied;
    info.build_seconds = b.seconds;
    info.compiled = b.compiled;
    return info;
}

RunResult run_once(const Workspace& ws, RunOptions& o, const std::string& label) {
    return run_boot_and_finish(ws, o, run_prepare_and_build(ws, o, label));
}

RunResult run_boot_and_finish(const Workspace& ws, RunOptions& o, RunInfo info) {
    Initramfs ird = run_initramfs(ws, o);
    info.trinity_seed = ird.trinity ? o.trinity_seed : 0;
    info.trinity_seconds = ird.trinity ? o.trinity_seconds : 0;
    return run_finish(ws, o, info, run_boot(ws, o, ird.cpio));
}

}  // namespace mmguard
