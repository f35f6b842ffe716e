#include "proof.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "job_queue.h"
#include "process.h"
#include "proof_judge.h"
#include "proof_plan.h"
#include "proof_report.h"
#include "run_pipeline.h"

namespace mmguard {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct RowResult {
    RowVerdict verdict;
    int exit_code = kExitHarnessError;
    std::size_t boot = 0;   // 1-based boot number in the whole matrix; 0: not run here
    double seconds = 0;     // of its boot, the kernel's build included
};

// A kernel the matrix built, kept as a copy of its bzImage.
struct KeptKernel {
    fs::path image;
    Workspace ws;   // of the kernel's first boot, which has the build's log
    RunInfo info;
    std::string error;   // why it could not be built
    double build_seconds = 0;
};

struct BootJobResult {
    int code = kExitHarnessError;
    BootResult boot;
    std::string error;
    double seconds = 0;
};

struct BootJob {
    std::size_t n = 0;
    double build_seconds = 0;   // of its kernel, when this boot's turn built it
    std::future<BootJobResult> result;
};

std::string kernel_key(const ProofKernel& k) {
    if (k.base) return "base";
    return k.mutation.empty() ? "patched" : "mutation-" + k.mutation.stem().string();
}

std::string boot_label(const ProofBoot& b, const std::vector<ProofRow>& rows, std::size_t n) {
    const ProofRow& first = rows[b.rows.front()];
    std::string kernel = b.kernel.base ? "base" : b.kernel.mutation.empty() ? "patched" : "mutation";
    return fmt::format("proof-{:02}-{}-{}", n, kernel, first.topic);
}

std::string utc_now(const char* format) {
    std::time_t now = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, format, std::gmtime(&now));
    return buf;
}

// Seconds of each boot in the last committed run (Documentation/proof.json),
// by its first row's topic and kernel; 30 s for a boot it does not have.
std::vector<double> measured_seconds(const fs::path& file, const std::vector<ProofRow>& rows,
                                     const std::vector<ProofBoot>& boots) {
    std::map<std::string, double> known;
    try {
        json j = json::parse(read_file(file));
        for (const auto& r : j.at("records"))
            known[r.at("topic").get<std::string>() + "/" + r.at("kernel").get<std::string>()] = r.at("seconds").get<double>();
    } catch (const std::exception&) {
        // No committed run (or an older format): every boot weighs the same.
    }
    std::vector<double> secs;
    for (const auto& b : boots) {
        const ProofRow& r = rows[b.rows.front()];
        auto it = known.find(r.topic + "/" + r.kernel.name());
        secs.push_back(it == known.end() ? 30.0 : it->second);
    }
    return secs;
}

json records_of(const std::vector<ProofRow>& rows, const std::vector<RowResult>& results) {
    json records = json::array();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const RowResult& x = results[i];
        if (x.boot == 0) continue;
        const ProofRow& r = rows[i];
        records.push_back({{"row", i}, {"topic", r.topic}, {"what", r.what}, {"kernel", r.kernel.name()},
                           {"expected", r.expected}, {"verdict", x.verdict.ok ? "ok" : "FAIL"},
                           {"seen", x.verdict.seen}, {"boot", x.boot},
                           {"seconds", static_cast<long>(x.seconds + 0.5)}, {"exit", x.exit_code}});
    }
    return records;
}

}  // namespace

int run_proof(const RunOptions& global, const ProofOptions& options) {
    auto start = Clock::now();
    Workspace root = workspace_paths(global);
    fs::path out_root = root.out;
    fs::create_directories(out_root);
    std::vector<ProofRow> rows = read_proof_rows(root.patches());
    for (auto& r : read_harness_rows(root.project / "qemu/harness-checks")) rows.push_back(std::move(r));
    std::vector<ProofBoot> boots = plan_proof_boots(rows);
    std::vector<RowResult> results(rows.size());

    // Which boots run here: --only picks rows by topic, --shard a share of the boots.
    std::vector<bool> runs(boots.size(), true);
    if (!options.only.empty()) {
        for (std::size_t n = 0; n < boots.size(); ++n)
            runs[n] = std::any_of(boots[n].rows.begin(), boots[n].rows.end(), [&](std::size_t i) {
                return std::any_of(options.only.begin(), options.only.end(),
                                   [&](const std::string& p) { return rows[i].topic.rfind(p, 0) == 0; });
            });
        if (std::none_of(runs.begin(), runs.end(), [](bool r) { return r; }))
            throw HarnessError(fmt::format("no proof row's topic starts with {}", fmt::join(options.only, " or ")));
    }
    std::string part;   // "" or "-shard-I-of-N"
    if (!options.shard.empty()) {
        auto [i, n] = parse_shard(options.shard);
        auto shard = assign_shards(measured_seconds(root.project / "Documentation/proof.json", rows, boots), n);
        for (std::size_t b = 0; b < boots.size(); ++b) runs[b] = runs[b] && shard[b] == i - 1;
        part = fmt::format("-shard-{}-of-{}", i, n);
    }
    if (options.list) {
        for (std::size_t n = 0; n < boots.size(); ++n) {
            if (!runs[n]) continue;
            fmt::print("boot {:>2}: {} kernel{}, {}\n", n + 1, boots[n].kernel.name(),
                       boots[n].kernel.mutation.empty() ? "" : " " + boots[n].kernel.mutation.stem().string(),
                       fmt::join(boots[n].words, " "));
            for (auto i : boots[n].rows) fmt::print("         {} {}: {}\n", rows[i].topic, rows[i].what, rows[i].expected);
        }
        fmt::print("{} rows, {} boots in the matrix; {} boots here\n", rows.size(), boots.size(),
                   std::count(runs.begin(), runs.end(), true));
        return kExitPass;
    }

    // Each kernel is built once in the tree and its bzImage kept as a copy:
    // a queue builds the kernels one after another, in the order of their
    // first boot, while the boots run from the copies, one at a time, each
    // as soon as its kernel is there (the first waiting boot in the run
    // order whose kernel is built). Builds are the critical path; a boot
    // never waits for a build it does not need.
    std::vector<std::size_t> pending = proof_run_order(boots, runs);
    std::vector<std::string> keys;        // kernels in the order of their first boot
    std::map<std::string, std::size_t> job_of;
    std::map<std::string, std::size_t> first_boot;   // of each kernel, in the run order
    for (std::size_t n : pending) {
        std::string key = kernel_key(boots[n].kernel);
        if (job_of.emplace(key, keys.size()).second) {
            keys.push_back(key);
            first_boot[key] = n;
        }
    }
    std::vector<KeptKernel> kept(keys.size());
    fs::path images = root.work / "proof-images";
    fs::create_directories(images);
    // The options of the boot that runs first on a kernel: its words may
    // choose the build (the label names its logs).
    auto boot_options = [&](std::size_t n) {
        const ProofBoot& b = boots[n];
        RunOptions o = global;
        o.base = b.kernel.base;
        o.mutations.clear();
        if (!b.kernel.mutation.empty()) o.mutations.push_back(b.kernel.mutation.string());
        o.label = boot_label(b, rows, n + 1);
        parse_run_words(o, b.words, o.label);
        o.stop_after_reports = report_patterns_to_stop_after(b, rows);
        return o;
    };
    std::vector<std::function<void()>> jobs;
    for (std::size_t j = 0; j < keys.size(); ++j) {
        jobs.push_back([&, j] {
            std::size_t n = first_boot[keys[j]];
            RunOptions o = boot_options(n);
            KeptKernel& k = kept[j];
            k.ws = make_workspace(o, o.label);
            const Workspace& ws = k.ws;
            fmt::print("\n==> proof: building the {} kernel (boot {}; kernel {} of {})\n", keys[j], n + 1, j + 1,
                       keys.size());
            std::fflush(stdout);
            auto t0 = Clock::now();
            try {
                k.info = run_prepare_and_build(ws, o, o.label);
                k.image = images / (keys[j] + ".bzImage");
                std::error_code ec;
                fs::copy_file(ws.bzimage(), k.image, fs::copy_options::overwrite_existing, ec);
                if (ec) throw HarnessError(fmt::format("cannot keep {} as {}: {}", ws.bzimage().string(),
                                                       k.image.string(), ec.message()));
            } catch (const HarnessError& e) {
                k.error = e.what();
            }
            k.build_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        });
    }
    std::optional<BootJob> running;
    auto finish = [&](BootJob& job) {
        BootJobResult r = job.result.get();
        for (std::size_t i : boots[job.n].rows) {
            RowResult& x = results[i];
            x.boot = job.n + 1;
            x.seconds = r.seconds + job.build_seconds;
            x.exit_code = r.code;
            if (r.error.empty()) {
                x.verdict = judge_proof_row(rows[i], r.code, r.boot);
            } else {
                x.verdict.ok = false;
                x.verdict.seen = "harness error: " + r.error.substr(0, r.error.find('\n'));
            }
            fmt::print("    {:<4} boot {}: {} / {} / {}: {}\n", x.verdict.ok ? "ok" : "FAIL", job.n + 1,
                       rows[i].topic, rows[i].kernel.name(), rows[i].expected, x.verdict.seen);
        }
        std::fflush(stdout);
    };
    std::size_t ran = 0;
    std::set<std::string> booted;   // kernels with a boot started: the first one carries the build's seconds
    {
        JobQueue builds(std::move(jobs));
        while (!pending.empty()) {
            if (running) finish(*running);
            running.reset();
            if (interrupted()) throw Interrupted();
            std::vector<std::size_t> wanted;
            for (std::size_t n : pending) wanted.push_back(job_of[kernel_key(boots[n].kernel)]);
            std::size_t j = builds.wait_any(wanted);
            auto at = std::find_if(pending.begin(), pending.end(),
                                   [&](std::size_t n) { return job_of[kernel_key(boots[n].kernel)] == j; });
            std::size_t n = *at;
            pending.erase(at);
            ++ran;
            const ProofBoot& b = boots[n];
            RunOptions o = boot_options(n);
            const KeptKernel& k = kept[j];
            bool first = booted.insert(keys[j]).second;
            double build_seconds = first ? k.build_seconds : 0;
            Workspace ws = first ? k.ws : make_workspace(o, o.label);
            fmt::print("\n==> proof boot {} of {}: {} kernel, {} ({} row(s))\n", n + 1, boots.size(),
                       b.kernel.name(), fmt::join(b.words, " "), b.rows.size());
            std::fflush(stdout);
            BootJob job;
            job.n = n;
            job.build_seconds = build_seconds;
            RunInfo info = k.info;
            if (build_seconds == 0) info.build_seconds = 0, info.compiled = 0;
            info.label = o.label;
            std::string error = k.error;
            Initramfs ird;
            if (error.empty()) {
                try {
                    ird = run_initramfs(ws, o);
                } catch (const HarnessError& e) {
                    error = e.what();
                }
            }
            o.kernel_image = k.image.string();
            job.result = std::async(std::launch::async, [ws, o, info, ird, error]() {
                BootJobResult r;
                auto t0 = Clock::now();
                r.error = error;
                if (r.error.empty()) {
                    try {
                        RunResult rr = run_finish(ws, o, info, run_boot(ws, o, ird.cpio));
                        r.code = rr.verdict.exit_code;
                        r.boot = std::move(rr.boot);
                    } catch (const HarnessError& e) {
                        r.error = e.what();
                    }
                }
                if (!r.error.empty()) fmt::print(stderr, "proof: {}: harness error: {}\n", o.label, r.error);
                r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
                return r;
            });
            running = std::move(job);
        }
    }
    if (running) finish(*running);
    if (interrupted()) throw Interrupted();
    double total = std::chrono::duration<double>(Clock::now() - start).count();
    json records = records_of(rows, results);
    std::string summary = fmt::format("{}, accel {}, {:.0f} s in all, {} of the matrix's {} boots for {} of its {} rows{}.\n",
                                      utc_now("%Y-%m-%dT%H:%MZ"), global.accel, total, ran, boots.size(),
                                      records.size(), rows.size(),
                                      options.shard.empty() ? "" : fmt::format(" (shard {})", options.shard));
    json doc = {{"rows_in_matrix", rows.size()}, {"boots_in_matrix", boots.size()}, {"shard", options.shard},
                {"summary", summary}, {"wall_seconds", static_cast<long>(total + 0.5)}, {"records", records}};
    std::string md = proof_markdown(records, summary);
    write_file_atomically(out_root / ("proof" + part + ".md"), md);
    write_file_atomically(out_root / ("proof" + part + ".json"), doc.dump(2) + "\n");
    fmt::print("\n{}", md);
    for (const auto& x : results)
        if (x.boot != 0 && !x.verdict.ok) return kExitTestFailure;
    return kExitPass;
}

int run_proof_merge(const RunOptions& global, const std::vector<std::string>& inputs) {
    std::vector<fs::path> files;
    for (const auto& in : inputs) {
        if (fs::is_directory(in)) {
            std::vector<fs::path> found;
            for (const auto& e : fs::directory_iterator(in)) {
                auto name = e.path().filename().string();
                if (name.rfind("proof-shard-", 0) == 0 && e.path().extension() == ".json") found.push_back(e.path());
            }
            if (found.empty()) throw HarnessError(fmt::format("{}: no proof-shard-*.json in it", in));
            std::sort(found.begin(), found.end());
            files.insert(files.end(), found.begin(), found.end());
        } else {
            files.push_back(in);
        }
    }
    std::vector<json> parts;
    std::size_t boots = 0;
    long wall = 0;   // of the parts' runs, builds and boots overlapping
    for (const auto& f : files) {
        try {
            parts.push_back(json::parse(read_file(f)));
            boots = parts.back().value("boots_in_matrix", std::size_t{0});
            wall += parts.back().value("wall_seconds", 0L);
        } catch (const json::exception& e) {
            throw HarnessError(fmt::format("{}: not JSON: {}", f.string(), e.what()));
        }
        fmt::print("part: {} ({})\n", f.string(), parts.back().value("shard", std::string("whole")));
    }
    json records = merge_proof_records(parts);
    std::set<long> used;
    long seconds = 0;
    for (const auto& r : records)
        if (used.insert(r.at("boot").get<long>()).second) seconds += r.at("seconds").get<long>();
    std::string summary = fmt::format(
        "{}, merged from {} part(s): {} boots for {} rows, {} s of boots and builds, {} s of wall time in all "
        "(builds overlap boots).\n",
        utc_now("%Y-%m-%dT%H:%MZ"), parts.size(), boots, records.size(), seconds, wall);
    fs::path out_root = workspace_paths(global).out;
    fs::create_directories(out_root);
    json doc = {{"rows_in_matrix", records.size()}, {"boots_in_matrix", boots}, {"shard", ""},
                {"summary", summary}, {"wall_seconds", wall}, {"records", records}};
    std::string md = proof_markdown(records, summary);
    write_file_atomically(out_root / "proof.md", md);
    write_file_atomically(out_root / "proof.json", doc.dump(2) + "\n");
    fmt::print("\n{}", md);
    for (const auto& r : records)
        if (r.at("verdict") != "ok") return kExitTestFailure;
    return kExitPass;
}

}  // namespace mmguard
