// mmguard: prepare a 6.12 tree with the project's patches, build it, boot it
// in QEMU, and judge KUnit, selftests and the kernel's own reports.
#include <fstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench.h"
#include "coverage_command.h"
#include "mm_selftests.h"
#include "gates.h"
#include "mutate_command.h"
#include "process.h"
#include "file_io.h"
#include "progress.h"
#include "repeat_tally.h"
#include "proof.h"
#include "run_pipeline.h"
#include "series_files.h"

using namespace mmguard;

namespace {

// --repeat N: boots 2..N of the kernel the first run built, then each test's
// pass count over all N (out/<label>-repeat.md beside the boots' folders).
int run_repeats(RunOptions& o, const RunResult& first, const std::string& label) {
    std::map<std::string, TestTally> tally;
    tally_boot(first.boot, tally);
    int worst = first.verdict.exit_code;
    RunInfo info = first.info;
    info.build_seconds = 0;
    info.compiled = 0;
    for (int i = 2; i <= o.repeat; ++i) {
        fmt::print("\n==> repeat {} of {}\n", i, o.repeat);
        Workspace ws = make_workspace(o, fmt::format("{}-{}", label, i));
        RunResult r = run_boot_and_finish(ws, o, info);
        if (interrupted()) return kExitInterrupted;
        tally_boot(r.boot, tally);
        if (r.verdict.exit_code != kExitPass && (worst == kExitPass || r.verdict.exit_code > worst))
            worst = r.verdict.exit_code;
    }
    int flaky = 0;
    for (const auto& [name, x] : tally) flaky += x.flaky() || x.runs() < o.repeat;
    std::string md = fmt::format("# {} booted {} times\n\n{} tests, {} flaky or missing in some boots\n\n{}", label,
                                 o.repeat, tally.size(), flaky, tally_markdown(tally, o.repeat));
    fs::path file = workspace_paths(o).out / (label + "-repeat.md");
    write_file_atomically(file, md);
    fmt::print("\n{}\n{}\n", md, file.string());
    if (worst == kExitPass && flaky > 0) worst = kExitTestFailure;
    return worst;
}

// The options of a command that builds and boots kernels of its own choice.
void add_source_and_accel_options(CLI::App* cmd, RunOptions& o) {
    cmd->add_option("--ksrc", o.ksrc, "use this kernel tree (read only) instead of Debian's linux-source-6.12");
    cmd->add_option("--tarball", o.tarball, "Debian kernel source tarball");
    cmd->add_option("--accel", o.accel, "auto (KVM if it works here), kvm or tcg")
        ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
}

// `mmguard series`: export (default), --check or --update (series_files.h).
int run_series(const Workspace& ws, const RunOptions& o) {
    PreparedTree tree = run_prepare(ws, o);
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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"mmguard: build, boot and judge a hardened Linux 6.12 mm"};
    app.require_subcommand(1);
    RunOptions o;
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

    ProofOptions proof;
    auto* proof_cmd = app.add_subcommand(
        "proof", "the proof matrix: each reproducer of patches/reproducers fails on base and passes patched, each "
                 "check of patches/mutations/ is silent and fires with its mutation (OUT/proof.md, proof.json)");
    add_source_and_accel_options(proof_cmd, o);
    proof_cmd->add_option("--only", proof.only, "only the rows whose topic starts with this (repeatable)");
    proof_cmd->add_option("--shard", proof.shard,
                          "I/N: run only this share of the boots (balanced by Documentation/proof.json's seconds); "
                          "writes OUT/proof-shard-I-of-N.md/.json for `mmguard merge`");
    proof_cmd->add_flag("--list", proof.list, "print the boots and the rows each one judges; run nothing");

    std::vector<std::string> merge_inputs;
    auto* merge_cmd = app.add_subcommand("merge", "combine the proof shards' results into one OUT/proof.md and proof.json");
    merge_cmd->add_option("parts", merge_inputs, "proof-shard-*.json files, or folders holding them")->required();

    BenchOptions bench;
    auto* bench_cmd = app.add_subcommand(
        "bench", "the stack's cost: patched/base ratios of page allocation and /proc/kpageflags reads over "
                 "alternating boots (OUT/bench.md, bench.json)");
    add_source_and_accel_options(bench_cmd, o);
    bench_cmd->add_option("--pairs", bench.pairs, "pairs of boots")->capture_default_str()->check(CLI::Range(1, 100));
    bench_cmd->add_option("--cpus", bench.cpus, "vCPUs")->capture_default_str()->check(CLI::Range(1, 64));
    bench_cmd->add_option("--first-patches", bench.first_patches,
                          "compare the base with the base + the first N patches of the series (a bisect step)");
    bench_cmd->add_flag("!--no-kpage", bench.kpage, "leave out the kpage_read_cost selftest");
    bench_cmd->add_flag("--shift-code", bench.shift_code,
                        "both kernels with 2 KiB of no-ops in front of mm/page_alloc.c's code (a placement control)");
    bench_cmd->add_option("--ms", bench.ms, "mmguard_bench.ms: milliseconds per case repetition (0: the suite's)");

    CoverageCommand coverage(app);
    auto mutate = add_mutate_command(app);
    MmSelftestsOptions mm_selftests;
    auto* mm_selftests_cmd = add_mm_selftests_command(app, o, mm_selftests);

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
        if (coverage.parsed()) return coverage.run(o.project, o.work, o.out, o.jobs);
        if (proof_cmd->parsed()) return run_proof(o, proof);
        if (bench_cmd->parsed()) return run_bench(o, bench);
        if (mm_selftests_cmd->parsed()) return run_mm_selftests(o, mm_selftests);
        if (merge_cmd->parsed()) return run_proof_merge(o, merge_inputs);
        Workspace ws = make_workspace(o, label);
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
            return run_finish(ws, o, info, std::move(r)).verdict.exit_code;
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
            run_prepare(ws, o);
            return kExitPass;
        }
        if (build_cmd->parsed()) {
            run_prepare(ws, o);
            run_build(ws, o);
            return kExitPass;
        }
        if (initramfs_cmd->parsed()) {
            run_initramfs(ws, o);
            return kExitPass;
        }
        RunResult result = boot_cmd->parsed() ? run_boot_and_finish(ws, o, info) : run_once(ws, o, label);
        if (o.repeat > 1 && !interrupted()) return run_repeats(o, result, label);
        return interrupted() ? kExitInterrupted : result.verdict.exit_code;
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
