#include "mutate_command.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "git_repo.h"
#include "initramfs.h"
#include "kernel_build.h"
#include "kernel_tree.h"
#include "mutant_classify.h"
#include "mutant_diff.h"
#include "mutant_operators.h"
#include "mutant_plan.h"
#include "mutant_report.h"
#include "process.h"
#include "progress.h"
#include "qemu_boot.h"
#include "run_report.h"
#include "workspace.h"

namespace mmguard {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

fs::path object_of(const std::string& file) { return fs::path(file).replace_extension(".o"); }

// Builds only `object` (kbuild's single-target build); true if it compiled.
bool build_object(const Workspace& ws, const fs::path& object, int jobs, const fs::path& log) {
    ProcessSpec spec;
    spec.argv = {"make", "-C", ws.src().string(), "O=" + ws.obj().string(), "ARCH=x86_64",
                 fmt::format("-j{}", jobs)};
    if (have_program("ccache")) spec.argv.push_back("CC=ccache gcc");
    spec.argv.push_back(object.string());
    spec.env = kbuild_env();
    return run_logged(spec, log.string()) == 0;
}

std::string object_code(const fs::path& object) {
    ProcessSpec spec;
    spec.argv = {"objdump", "-d", "-r", "--no-show-raw-insn", "--no-addresses", object.string()};
    return normalise_disassembly(run_capture(spec, "objdump " + object.string()));
}

struct Generated {
    std::vector<Mutant> mutants;
    std::map<std::string, int> by_function, by_operator;
    std::vector<std::string> missing;   // listed functions this tree does not define
};

Generated generate_all(const Workspace& ws, const MutateOptions& o) {
    fs::path list = o.functions.empty() ? ws.patches() / "guarded-functions" : fs::path(o.functions);
    auto guarded = parse_guarded_functions(read_file(list));
    if (guarded.empty()) throw HarnessError(fmt::format("{}: no functions listed", list.string()));
    std::map<std::string, std::vector<std::string>> files;
    Generated g;
    auto wanted = [](const std::vector<std::string>& set, const std::string& x) {
        return set.empty() || std::find(set.begin(), set.end(), x) != set.end();
    };
    for (const auto& f : guarded) {
        if (!wanted(o.only, f.function)) continue;
        auto it = files.find(f.file);
        if (it == files.end()) {
            fs::path p = ws.src() / f.file;
            if (!fs::exists(p)) throw HarnessError(fmt::format("{}: {} is not in the kernel tree", list.string(), f.file));
            it = files.emplace(f.file, split_lines(read_file(p))).first;
        }
        std::vector<Mutant> ms;
        try {
            ms = generate_mutants(f.file, it->second, f.function);
        } catch (const HarnessError& e) {
            if (std::string(e.what()).find("no definition found") == std::string::npos) throw;
            g.missing.push_back(f.file + ":" + f.function);
            continue;
        }
        for (auto& m : ms) {
            if (!wanted(o.ops, m.op) || !wanted(o.ids, m.id)) continue;
            ++g.by_function[m.function];
            ++g.by_operator[m.op];
            g.mutants.push_back(std::move(m));
        }
    }
    for (const auto& op : o.ops)
        if (std::find(operator_names().begin(), operator_names().end(), op) == operator_names().end())
            throw HarnessError(fmt::format("--op {}: no such operator (have: {})", op,
                                           fmt::join(operator_names(), ", ")));
    return g;
}

// Reverts the mutated file however the mutant's turn ends.
struct Revert {
    const GitRepo& git;
    std::string file;
    ~Revert() {
        std::string out;
        git.try_run({"checkout", "--", file}, out);
    }
};

std::string safe_name(const std::string& id) {
    std::string s = id;
    for (auto& c : s)
        if (c == '/' || c == ':') c = '_';
    return s;
}

BootOptions boot_options(const Workspace& ws, const MutateOptions& o, const fs::path& initrd, const fs::path& out) {
    BootOptions b;
    b.kernel = ws.bzimage();
    b.initrd = initrd;
    b.accel = o.accel;
    b.cpus = o.cpus;
    b.memory = o.memory;
    b.cmdline = o.append;
    if (!o.full_selftests)
        for (const char* word : {"COMPACTION_STRESS_SECONDS=5", "COMPACTION_DIRECT_SECONDS=5", "KPF_RACE_SECONDS=5",
                                 "KPF_OFFLINE_SECONDS=5"}) {
            std::string name = std::string(word).substr(0, std::string(word).find('='));
            bool given = std::any_of(o.append.begin(), o.append.end(),
                                     [&](const std::string& a) { return a.rfind(name + "=", 0) == 0; });
            if (!given) b.cmdline.push_back(word);
        }
    b.silence_timeout = o.silence_timeout;
    b.total_timeout = o.boot_timeout;
    b.out_dir = out;
    b.state_dir = ws.work;
    fs::create_directories(out);
    return b;
}

void write_reports(const fs::path& out, const std::string& jsonl, const MutateSummary& s) {
    auto records = read_records(jsonl, s.tree);
    write_file_atomically(out / "mutate.json", mutate_json(records, s).dump(2) + "\n");
    write_file_atomically(out / "mutate.md", mutate_markdown(records, s));
}

int run_mutate(const MutateOptions& o, const std::string& project, const std::string& work, const std::string& out_dir,
               int jobs) {
    auto t_start = Clock::now();
    Workspace ws;
    ws.project = fs::absolute(project).lexically_normal();
    ws.work = fs::absolute(work.empty() ? ws.project / "build/mutate-work" : fs::path(work)).lexically_normal();
    fs::path out = fs::absolute(out_dir.empty() ? ws.project / "out" : fs::path(out_dir)).lexically_normal();
    ws.out = out / "mutate-logs";
    fs::create_directories(ws.out);
    fs::create_directories(ws.work);
    if (jobs <= 0) jobs = static_cast<int>(std::thread::hardware_concurrency()) + 1;
    std::string jsonl = (out / "mutate.jsonl").string();

    TreeOptions t;
    t.force = true;   // the mutate work tree is the tool's own: a mutant left by a killed run goes
    PreparedTree tree;
    {
        Stage stage("prepare", fmt::format("patched tree in {}", ws.src().string()));
        tree = prepare_tree(ws, t);
    }
    Generated gen = generate_all(ws, o);
    MutateSummary summary;
    summary.seed = o.seed;
    summary.tree = tree.head_commit;
    summary.generated_by_function = gen.by_function;
    summary.generated_by_operator = gen.by_operator;
    summary.budget_minutes = o.budget_minutes;
    for (const auto& m : gen.missing) fmt::print("    not in this tree, skipped: {}\n", m);
    fmt::print("    {} mutants of {} functions\n", gen.mutants.size(), gen.by_function.size());

    auto order = shuffled(gen.mutants, o.seed);
    auto done = done_ids(jsonl, tree.head_commit);
    auto todo = still_to_run(order, done, o.max);
    if (o.list) {
        for (const auto& m : order) fmt::print("{}  {}\n", m.id, m.description);
        return kExitPass;
    }
    if (o.report_only) {
        write_reports(out, jsonl, summary);
        fmt::print("{} and {}\n", (out / "mutate.md").string(), (out / "mutate.json").string());
        return kExitPass;
    }
    fmt::print("    {} to run ({} recorded in {} before), budget {} min, seed {}\n", todo.size(), done.size(), jsonl,
               o.budget_minutes, o.seed);

    BuildOptions bo;
    bo.jobs = jobs;
    bo.log = ws.out / "build.log";
    build_kernel(ws, bo);
    GuestPlan plan;
    plan.selftests = o.selftests;
    plan.selftest_timeout = o.selftest_timeout;
    Initramfs ird = build_initramfs(ws, plan, ws.out / "initramfs.log");

    // The unmutated objects' code, the reference for "equivalent".
    std::map<std::string, std::string> base_code;
    for (const auto& m : todo)
        if (!base_code.count(m.file)) base_code[m.file] = object_code(ws.obj() / object_of(m.file));

    if (o.baseline_boot && !todo.empty()) {
        Stage stage("baseline", "the unmutated kernel must pass every suite");
        auto b = boot_kernel(boot_options(ws, o, ird.cpio, ws.out / "baseline"), {});
        auto e = evidence_of(b);
        auto v = classify_mutant(true, "x", "y", e);
        fmt::print("    baseline: {} tests passed in {:.0f} s ({})\n", e.passed, b.seconds, e.outcome);
        if (interrupted()) throw Interrupted();
        if (v.status != MutantStatus::Survived)
            throw HarnessError(fmt::format("the unmutated kernel does not pass ({}); console: {}", v.killed_by,
                                           (ws.out / "baseline/console.log").string()));
    }

    GitRepo git(ws.src() / ".git", ws.src());
    std::ofstream log(jsonl, std::ios::app);
    if (!log) throw HarnessError(fmt::format("cannot append to {}", jsonl));
    std::size_t n = 0;
    for (const auto& m : todo) {
        if (since(t_start) > o.budget_minutes * 60) {
            fmt::print("    budget of {} min used: {} of {} mutants left for a rerun\n", o.budget_minutes,
                       todo.size() - n, todo.size());
            break;
        }
        ++n;
        auto t0 = Clock::now();
        fs::path dir = ws.out / safe_name(m.id);
        fs::create_directories(dir);
        auto file_lines = split_lines(read_file(ws.src() / m.file));
        std::string diff = unified_diff(m.file, file_lines, m.edits);
        write_file_atomically(dir / "mutant.diff", diff);
        nlohmann::json rec = {{"id", m.id},      {"file", m.file},     {"function", m.function},
                              {"operator", m.op}, {"line", m.line},    {"variant", m.variant},
                              {"description", m.description}, {"tree", tree.head_commit}, {"seed", o.seed},
                              {"diff", diff}};
        MutantVerdict v;
        double build_s = 0, boot_s = 0;
        {
            Revert revert{git, m.file};
            std::string apply_out;
            if (git.try_run({"apply", "--whitespace=nowarn", (dir / "mutant.diff").string()}, apply_out) != 0)
                throw HarnessError(fmt::format("mutant {} does not apply (a generator bug): {}", m.id, apply_out));
            auto tb = Clock::now();
            bool compiled = build_object(ws, object_of(m.file), jobs, dir / "build.log");
            std::string code = compiled ? object_code(ws.obj() / object_of(m.file)) : "";
            std::optional<BootEvidence> ev;
            if (compiled && code != base_code[m.file]) {
                BuildOptions mb;
                mb.jobs = jobs;
                mb.log = dir / "build.log";
                try {
                    build_kernel(ws, mb);
                } catch (const HarnessError&) {
                    compiled = false;   // it compiled alone but does not link
                }
                build_s = since(tb);
                if (compiled) {
                    auto tboot = Clock::now();
                    BootOptions bo = boot_options(ws, o, ird.cpio, dir);
                    // The first kernel report kills the mutant: nothing after it can save it.
                    bo.stop_after_reports = {"."};
                    auto b = boot_kernel(bo, {});
                    boot_s = since(tboot);
                    if (interrupted() || b.outcome == BootOutcome::Interrupted) throw Interrupted();
                    ev = evidence_of(b);
                    rec["boot_outcome"] = ev->outcome;
                    rec["reports"] = ev->report_signatures;
                    rec["failed_tests"] = ev->failed_tests;
                    rec["tests_passed"] = ev->passed;
                }
            } else {
                build_s = since(tb);
            }
            v = classify_mutant(compiled, code, base_code[m.file], ev);
        }
        rec["status"] = to_string(v.status);
        rec["killed_by"] = v.killed_by;
        rec["build_seconds"] = build_s;
        rec["boot_seconds"] = boot_s;
        rec["seconds"] = since(t0);
        log << rec.dump() << "\n";
        log.flush();
        if (!log) throw HarnessError(fmt::format("cannot append to {}", jsonl));
        fmt::print("    [{}/{}] {:<12} {:>4.0f} s  {}  {}{}\n", n, todo.size(), to_string(v.status), since(t0), m.id,
                   m.description, v.killed_by.empty() ? "" : "  <- " + v.killed_by);
        std::fflush(stdout);
    }
    summary.wall_seconds = since(t_start);
    write_reports(out, jsonl, summary);
    fmt::print("mutate: {} mutants this run in {:.0f} s; reports {} and {}\n", n, summary.wall_seconds,
               (out / "mutate.md").string(), (out / "mutate.json").string());
    return kExitPass;
}

}  // namespace

std::unique_ptr<MutateCommand> add_mutate_command(CLI::App& app) {
    auto m = std::make_unique<MutateCommand>();
    auto& o = m->options;
    auto* c = app.add_subcommand(
        "mutate", "generate mutants of the guarded functions (patches/guarded-functions), build and boot each with "
                  "the KUnit suites and selftests: killed / survived / equivalent / not compiled "
                  "(out/mutate.md, .json, .jsonl; --work defaults to PROJECT/build/mutate-work)");
    c->add_option("--functions", o.functions, "list of FILE FUNCTION [TOPIC] lines (default patches/guarded-functions)");
    c->add_option("--function", o.only, "only mutants of this function (repeatable)");
    c->add_option("--op", o.ops, "only this operator (repeatable): delete_state negate_cond relax_cmp off_by_one "
                                 "swap_migratetype drop_lock");
    c->add_option("--id", o.ids, "only this mutant (repeatable; ids as in --list or mutate.jsonl)");
    c->add_option("--budget", o.budget_minutes, "minutes: no new mutant starts after this")->capture_default_str()
        ->check(CLI::PositiveNumber);
    c->add_option("--seed", o.seed, "order of the mutants (a seeded shuffle)")->capture_default_str();
    c->add_option("--max", o.max, "at most this many mutants (0: as many as the budget allows)");
    c->add_flag("--list", o.list, "print the mutants in run order and stop");
    c->add_flag("--report", o.report_only, "rewrite out/mutate.md and .json from out/mutate.jsonl");
    c->add_option("--accel", o.accel, "auto, kvm or tcg")->check(CLI::IsMember({"auto", "kvm", "tcg"}));
    c->add_option("--cpus", o.cpus, "vCPUs")->check(CLI::Range(1, 64));
    c->add_option("--memory", o.memory, "guest memory");
    c->add_option("--append", o.append, "extra kernel command line words");
    c->add_option("--selftest", o.selftests, "run only these selftests (default: all)");
    c->add_option("--selftest-timeout", o.selftest_timeout, "seconds per selftest program")->capture_default_str();
    c->add_option("--timeout", o.boot_timeout, "seconds per boot: a mutant still running then is killed (hang)")
        ->capture_default_str();
    c->add_option("--silence-timeout", o.silence_timeout, "seconds without console output that count as a hang")
        ->capture_default_str();
    c->add_flag("--full-selftests", o.full_selftests,
                "the selftests' default durations (default: compaction_stress, compaction_direct and the kpageflags race "
                "reproducers 5 s each)");
    c->add_flag("!--no-baseline-boot", o.baseline_boot, "skip the boot of the unmutated kernel");
    m->cmd = c;
    return m;
}

int run_mutate_command(const MutateCommand& m, const std::string& project, const std::string& work,
                       const std::string& out, int jobs) {
    try {
        return run_mutate(m.options, project, work, out, jobs);
    } catch (const Interrupted&) {
        fmt::print(stderr, "mmguard mutate: interrupted; the mutant is reverted, results so far are in out/mutate.jsonl\n");
        return kExitInterrupted;
    } catch (const HarnessError& e) {
        fmt::print(stderr, "mmguard mutate: error: {}\n", e.what());
        return kExitHarnessError;
    } catch (const std::exception& e) {
        fmt::print(stderr, "mmguard mutate: error: {}\n", e.what());
        return kExitHarnessError;
    }
}

}  // namespace mmguard
