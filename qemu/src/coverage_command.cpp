#include "coverage_command.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "atomic_file.h"
#include "coverage_data.h"
#include "file_io.h"
#include "initramfs.h"
#include "kernel_build.h"
#include "kernel_tree.h"
#include "process.h"
#include "progress.h"
#include "qemu_boot.h"
#include "run_pipeline.h"
#include "run_report.h"

namespace mmguard {

namespace fs = std::filesystem;

struct CoverageSettings {
    std::string ksrc;
    std::string tarball = "/usr/src/linux-source-6.12.tar.xz";
    bool base = false;
    bool force = false;
    bool report_only = false;
    std::vector<std::string> selftests;
    bool no_selftests = false;
    int selftest_timeout = 300;
    int trinity_seconds = 0;
    unsigned trinity_seed = 0;
    int trinity_children = 2;
    std::string trinity_args = "-g vm -x remap_file_pages -x get_robust_list --disable-fds=sockets";
    std::string accel = "auto";
    int cpus = 2;
    std::string memory = "2G";
    std::vector<std::string> append;
    std::string kunit_filter;
    int silence_timeout = 120;
    int total_timeout = 1800;
};

namespace {

// Every .gcda under `dir` (a previous run's counters must not leak into this one).
std::vector<fs::path> gcda_files(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec) && it->path().extension() == ".gcda") out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::size_t count_gcno(const fs::path& dir) {
    std::size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec))
        if (!ec && it->path().extension() == ".gcno") ++n;
    return n;
}

// Places the dump's .gcda files beside their .gcno in the object directory.
std::vector<fs::path> install_gcda(const std::vector<TarMember>& members, const fs::path& obj) {
    for (const auto& old : gcda_files(obj)) fs::remove(old);
    std::vector<fs::path> placed;
    for (const auto& m : members) {
        fs::path rel = gcda_relative_path(m.path, obj);
        fs::path gcno = obj / rel;
        gcno.replace_extension(".gcno");
        if (!fs::exists(gcno))
            throw HarnessError(fmt::format("coverage dump: {} has no {} beside it: the dump does not belong to this build",
                                           m.path, gcno.string()));
        write_file_atomically(obj / rel, m.data);
        placed.push_back(obj / rel);
    }
    return placed;
}

std::vector<FileCoverage> run_gcov(const fs::path& obj, const std::vector<fs::path>& gcda, const fs::path& log) {
    if (!have_program("gcov")) throw HarnessError("gcov not found: run 'make deps' (package gcc)");
    std::vector<FileCoverage> all;
    for (const auto& f : gcda) {
        ProcessSpec spec;
        spec.argv = {"gcov", "-b", "--json-format", "--stdout", "-o", f.parent_path().string(), f.string()};
        spec.cwd = obj.string();
        // To a file: the pipe helpers cut lines at 128 KiB, and gcov's JSON is one line.
        fs::path json = log.parent_path() / "gcov.json.tmp";
        spec.pipe_stdout = false;
        spec.stdout_path = json.string();
        spec.stderr_to_stdout = false;
        spec.stderr_path = log.string();
        fs::remove(json);   // opened for appending
        int code = 0;
        {
            Child child(spec);
            code = exit_code_of(child.wait());
        }
        if (code != 0) throw HarnessError(fmt::format("gcov {} failed (exit {}); see {}", f.string(), code, log.string()));
        auto files = parse_gcov_json(read_file(json));
        fs::remove(json);
        all.insert(all.end(), files.begin(), files.end());
    }
    return all;
}

void run_gcovr(const Workspace& ws, const fs::path& report_dir, const std::vector<GuardedFunction>& guarded,
               const fs::path& log) {
    if (!have_program("gcovr")) throw HarnessError("gcovr not found: run 'make deps' (package gcovr)");
    Stage stage("gcovr", (report_dir / "index.html").string());
    ProcessSpec spec;
    spec.argv = {"gcovr", "-r", ws.src().string(), "--html-details", (report_dir / "index.html").string(),
                 "--html-title", "mmguard coverage: the guarded mm objects", "--json",
                 (report_dir / "gcovr.json").string(), "--print-summary"};
    std::set<std::string> dirs;
    for (const auto& g : guarded) dirs.insert(fs::path(g.file).parent_path().string());
    // Only the profiled sources: headers inlined into them would crowd the report.
    for (const auto& d : dirs) spec.argv.insert(spec.argv.end(), {"--filter", (ws.src() / d).string() + "/[^/]*\\.c$"});
    spec.argv.push_back(ws.obj().string());
    spec.cwd = ws.obj().string();
    if (run_logged(spec, log.string()) != 0) throw HarnessError("gcovr failed; see " + log.string());
}


std::string now_utc() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

}  // namespace

CoverageCommand::CoverageCommand(CLI::App& app) : s_(std::make_unique<CoverageSettings>()) {
    auto& s = *s_;
    cmd_ = app.add_subcommand(
        "coverage",
        "kernel gcov for the guarded mm objects under make run's suites: a separate build "
        "(--work default PROJECT/build/coverage-work), one boot, reports in OUT/coverage/ (index.html, "
        "coverage.json, summary.md per patches/guarded-functions)");
    cmd_->add_option("--ksrc", s.ksrc, "use this kernel tree (read only) instead of Debian's linux-source-6.12");
    cmd_->add_option("--tarball", s.tarball, "Debian kernel source tarball");
    cmd_->add_flag("--base", s.base, "base kernel: no project patches (the KUnit hook and the profile stay)");
    cmd_->add_flag("--force", s.force, "discard local edits in the coverage tree");
    cmd_->add_flag("--report-only", s.report_only,
                   "no build or boot: report again from the .gcda files the last coverage run left in the build");
    cmd_->add_option("--selftest", s.selftests, "run only these selftests (default: all)");
    cmd_->add_flag("--no-selftests", s.no_selftests, "KUnit only");
    cmd_->add_option("--selftest-timeout", s.selftest_timeout, "seconds per selftest program");
    cmd_->add_option("--trinity-seconds", s.trinity_seconds, "a trinity session after the selftests (0: none)")
        ->capture_default_str();
    cmd_->add_option("--trinity-seed", s.trinity_seed, "trinity's seed (default: random, printed)");
    cmd_->add_option("--trinity-children", s.trinity_children, "trinity child processes")->capture_default_str();
    cmd_->add_option("--trinity-args", s.trinity_args, "trinity's syscall selection")->capture_default_str();
    cmd_->add_option("--accel", s.accel, "auto, kvm or tcg")->check(CLI::IsMember({"auto", "kvm", "tcg"}));
    cmd_->add_option("--cpus", s.cpus, "vCPUs")->check(CLI::Range(1, 64));
    cmd_->add_option("--memory", s.memory, "guest memory (QEMU -m syntax)");
    cmd_->add_option("--append", s.append, "extra kernel command line words");
    cmd_->add_option("--kunit-filter", s.kunit_filter, "kunit.filter_glob for the boot");
    cmd_->add_option("--silence-timeout", s.silence_timeout, "seconds without console output that count as a hang");
    cmd_->add_option("--timeout", s.total_timeout, "seconds for the whole boot")->capture_default_str();
}

CoverageCommand::~CoverageCommand() = default;

bool CoverageCommand::parsed() const { return cmd_->parsed(); }

int CoverageCommand::run(const std::string& project, const std::string& work, const std::string& out, int jobs) {
    const auto& s = *s_;
    auto start = std::chrono::steady_clock::now();
    Workspace ws;
    ws.project = fs::absolute(project).lexically_normal();
    ws.work = fs::absolute(work.empty() ? ws.project / "build/coverage-work" : fs::path(work)).lexically_normal();
    fs::path out_root = fs::absolute(out.empty() ? ws.project / "out" : fs::path(out)).lexically_normal();
    ws.out = out_root / "coverage";
    fs::path profile_patch = ws.project / "qemu/coverage/gcov-profile.patch";
    fs::path profile_config = ws.project / "qemu/coverage/gcov.config";
    fs::path guarded_file = ws.patches() / "guarded-functions";
    auto guarded = parse_guarded_functions(read_file(guarded_file), guarded_file.string());
    if (ws.work == (ws.project / "build").lexically_normal())
        throw HarnessError(fmt::format("--work {}: the coverage build needs its own directory, not make run's",
                                       ws.work.string()));
    fs::create_directories(ws.work);
    // Generated, all of it: a failed run must not leave the last run's report looking current.
    if (!s.report_only) fs::remove_all(ws.out);
    fs::create_directories(ws.out);

    nlohmann::json meta = {{"date", now_utc()}, {"work", ws.work.string()}};
    int exit_code = kExitPass;
    std::vector<fs::path> gcda;
    if (s.report_only) {
        gcda = gcda_files(ws.obj());
        if (gcda.empty())
            throw HarnessError(fmt::format("--report-only: no .gcda files in {}; run mmguard coverage first",
                                           ws.obj().string()));
        meta["report_only"] = true;
    } else {
        RunInfo info;
        info.label = "coverage";
        {
            Stage stage("prepare", "the stack + qemu/coverage/gcov-profile.patch in " + ws.src().string());
            TreeOptions t;
            t.tarball = s.tarball;
            t.ksrc = s.ksrc;
            t.apply_series = !s.base;
            t.force = s.force;
            t.extra = {profile_patch};
            PreparedTree tree = prepare_tree(ws, t);
            info.kernel_tree = tree.head_commit;
            info.patches = tree.applied;
            meta["kernel_tree"] = tree.head_commit;
            meta["kernel_version"] = tree.kernel_version;
        }
        BuildOptions b;
        b.jobs = jobs;
        b.log = ws.out / "build.log";
        b.extra_fragments = {profile_config};
        BuildResult br = build_kernel(ws, b);
        info.build_seconds = br.seconds;
        info.compiled = br.compiled;
        fmt::print("    {} objects compiled{}\n", br.compiled, br.compiled == 0 ? " (nothing changed)" : "");
        std::size_t gcno = count_gcno(ws.obj());
        if (gcno == 0)
            throw HarnessError(fmt::format("no .gcno file in {}: the coverage profile did not take effect",
                                           ws.obj().string()));
        fmt::print("    {} profiled objects (.gcno)\n", gcno);

        GuestPlan plan;
        plan.selftests = s.selftests;
        plan.run_selftests = !s.no_selftests;
        plan.selftest_timeout = s.selftest_timeout;
        plan.trinity_seconds = s.trinity_seconds;
        plan.trinity_seed = s.trinity_seconds > 0 ? (s.trinity_seed ? s.trinity_seed : std::random_device{}() | 1u) : 0;
        plan.trinity_children = s.trinity_children;
        plan.trinity_args = s.trinity_args;
        plan.coverage_port = "/dev/ttyS1";
        Initramfs ird = build_initramfs(ws, plan, ws.out / "initramfs.log");
        fmt::print("    selftests: {}\n", ird.selftests.empty() ? "none" : fmt::format("{}", fmt::join(ird.selftests, " ")));
        if (ird.trinity)
            fmt::print("    trinity: {} s, seed {} (rerun it with --trinity-seed {})\n", plan.trinity_seconds,
                       plan.trinity_seed, plan.trinity_seed);
        info.trinity_seed = plan.trinity_seed;
        info.trinity_seconds = plan.trinity_seconds;

        // The guest's ttyS1: QEMU creates (truncates) the file.
        fs::path disk = ws.out / "gcov-serial.bin";
        fs::remove(disk);
        BootOptions bo;
        bo.kernel = ws.bzimage();
        bo.initrd = ird.cpio;
        bo.accel = s.accel;
        bo.cpus = s.cpus;
        bo.memory = s.memory;
        bo.cmdline = s.append;
        if (!s.kunit_filter.empty()) bo.cmdline.push_back("kunit.filter_glob=" + s.kunit_filter);
        bo.silence_timeout = s.silence_timeout;
        bo.total_timeout = s.total_timeout;
        bo.out_dir = ws.out;
        bo.state_dir = ws.work;
        bo.serial_files = {disk};
        BootResult result;
        {
            Stage stage("boot", fmt::format("{} vCPUs, {} memory, coverage port ttyS1 -> {}, console {}", s.cpus, s.memory,
                                            disk.string(), (ws.out / "console.log").string()));
            result = boot_kernel(bo, progress_observer());
        }
        if (interrupted()) throw Interrupted();
        Verdict v = judge(result, {});
        write_results_json(ws.out / "results.json", info, result, v);
        write_junit_xml(ws.out / "junit.xml", info, result);
        write_reports_text(ws.out / "reports.txt", result);
        print_summary(info, result, v, ws.out);
        exit_code = v.exit_code;
        meta["boot"] = {{"outcome", to_string(result.outcome)},
                        {"seconds", result.seconds},
                        {"accel", result.accel},
                        {"exit_code", v.exit_code},
                        {"reports", result.report_groups.size()},
                        {"trinity_seconds", plan.trinity_seconds},
                        {"trinity_seed", plan.trinity_seed}};
        nlohmann::json suites = nlohmann::json::array();
        for (const auto& t : result.tests) suites.push_back({{"name", t.name}, {"status", to_string(t.status)}});
        meta["suites"] = suites;

        // The counters live in the guest's memory: a guest that did not get
        // to the dump leaves nothing, and a report from what is left would
        // look like unreached code. Say so and stop.
        std::string console = read_file(ws.out / "console.log");
        std::fflush(stdout);
        if (result.outcome != BootOutcome::Completed) {
            fmt::print(stderr,
                       "mmguard: coverage: NO COVERAGE DATA: the guest ended with \"{}\" before dumping its gcov "
                       "counters; nothing is reported (console: {})\n",
                       to_string(result.outcome), (ws.out / "console.log").string());
            return exit_code == kExitPass ? kExitKernelReport : exit_code;
        }
        if (auto why = find_dump_failure(console))
            throw HarnessError(fmt::format("coverage: the guest could not dump its counters: {}", *why));
        auto dump = find_dump_line(console);
        if (!dump)
            throw HarnessError(fmt::format("coverage: the guest finished without the line \"mmguard: coverage: N "
                                           "files, B bytes, md5 M\" (console: {})",
                                           (ws.out / "console.log").string()));
        if (!fs::exists(disk))
            throw HarnessError(fmt::format("coverage: QEMU left no {} (the guest's ttyS1)", disk.string()));
        std::string image = read_file(disk);
        auto members = read_dump(image, *dump);
        write_file_atomically(ws.out / "gcda.tar", image.substr(0, dump->bytes));
        fs::remove(disk);
        gcda = install_gcda(members, ws.obj());
        fmt::print("    coverage dump: {} .gcda files, {} bytes, md5 ok\n", dump->files, dump->bytes);
        meta["dump"] = {{"files", dump->files}, {"bytes", dump->bytes}, {"md5", dump->md5}};
    }

    std::vector<FileCoverage> files;
    {
        Stage stage("gcov", fmt::format("{} .gcda files", gcda.size()));
        files = run_gcov(ws.obj(), gcda, ws.out / "gcov.log");
    }
    std::map<std::string, std::string> sources;
    std::vector<FunctionSummary> summaries;
    for (const auto& g : guarded) {
        if (!sources.count(g.file)) {
            fs::path src = ws.src() / g.file;
            if (!fs::exists(src)) throw HarnessError(fmt::format("{} lists {}, which {} does not have",
                                                                 guarded_file.string(), g.file, ws.src().string()));
            sources[g.file] = read_file(src);
        }
        summaries.push_back(summarize_function(g, files, sources[g.file]));
    }
    run_gcovr(ws, ws.out, guarded, ws.out / "gcovr.log");

    nlohmann::json j = coverage_json(summaries);
    meta["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    j["run"] = meta;
    write_file_atomically(ws.out / "coverage.json", j.dump(2) + "\n");
    std::string md = summary_markdown(summaries, sources);
    write_file_atomically(ws.out / "summary.md", md);
    CoverageTotals t = totals_of(summaries);
    fmt::print("\n{:<32} {:>15} {:>15} {:>8}\n", "guarded function", "lines", "branches", "blocks");
    for (const auto& f : summaries) {
        if (!f.found) {
            fmt::print("{:<32} {}\n", f.guarded.function, f.note);
            continue;
        }
        fmt::print("{:<32} {:>6}/{:<4}{:>5} {:>6}/{:<4}{:>5} {:>8}\n", f.guarded.function, f.lines_reached, f.lines,
                   percent(f.lines_reached, f.lines).substr(0, 4), f.branches_taken, f.branches,
                   percent(f.branches_taken, f.branches).substr(0, 4),
                   f.blocks ? fmt::format("{}/{}", *f.blocks_executed, *f.blocks) : "inlined");
    }
    fmt::print("\nall {} guarded functions: lines {}/{} ({}), branches {}/{} ({}); without check branches {}/{} ({})\n",
               t.functions, t.lines_reached, t.lines, percent(t.lines_reached, t.lines), t.branches_taken, t.branches,
               percent(t.branches_taken, t.branches), t.branches_taken - t.check_branches_taken,
               t.branches - t.check_branches,
               percent(t.branches_taken - t.check_branches_taken, t.branches - t.check_branches));
    fmt::print("coverage report: {} (table: {}, data: {}) in {}\n", (ws.out / "index.html").string(),
               (ws.out / "summary.md").string(), (ws.out / "coverage.json").string(),
               format_duration(meta["seconds"].get<double>()));
    if (t.found < t.functions) {
        fmt::print(stderr, "mmguard: coverage: {} of {} guarded functions not found in the profile\n",
                   t.functions - t.found, t.functions);
        if (exit_code == kExitPass) exit_code = kExitHarnessError;
    }
    return exit_code;
}

}  // namespace mmguard
