#include "proof.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
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

    std::optional<ProofKernel> built;   // the kernel in the build directory
    RunInfo built_info;
    std::string build_error;            // why `built` could not be built
    std::size_t ran = 0;
    for (std::size_t n = 0; n < boots.size(); ++n) {
        if (!runs[n]) continue;
        ++ran;
        const ProofBoot& b = boots[n];
        auto t0 = Clock::now();
        RunOptions o = global;
        o.base = b.kernel.base;
        o.mutations.clear();
        if (!b.kernel.mutation.empty()) o.mutations.push_back(b.kernel.mutation.string());
        std::string label = boot_label(b, rows, n + 1);
        o.label = label;
        parse_run_words(o, b.words, label);
        o.stop_after_reports = report_patterns_to_stop_after(b, rows);
        fmt::print("\n==> proof boot {} of {}: {} kernel, {} ({} row(s))\n", n + 1, boots.size(), b.kernel.name(),
                   fmt::join(b.words, " "), b.rows.size());
        std::fflush(stdout);
        Workspace ws = make_workspace(o, label);
        int code = kExitHarnessError;
        BootResult boot;
        std::string error;
        try {
            if (!built || !(*built == b.kernel)) {
                built = b.kernel;
                build_error.clear();
                built_info = RunInfo{};
                try {
                    built_info = run_prepare_and_build(ws, o, label);
                } catch (const HarnessError& e) {
                    build_error = e.what();
                }
            } else {
                built_info.build_seconds = 0;
                built_info.compiled = 0;
            }
            if (!build_error.empty()) throw HarnessError(build_error);
            RunInfo info = built_info;
            info.label = label;
            RunResult r = run_boot_and_finish(ws, o, info);
            code = r.verdict.exit_code;
            boot = std::move(r.boot);
        } catch (const HarnessError& e) {
            error = e.what();
            fmt::print(stderr, "proof: boot {} ({}): harness error: {}\n", n + 1, label, error);
        }
        if (interrupted()) throw Interrupted();
        double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        for (std::size_t i : b.rows) {
            RowResult& x = results[i];
            x.boot = n + 1;
            x.seconds = secs;
            x.exit_code = code;
            if (error.empty()) {
                x.verdict = judge_proof_row(rows[i], code, boot);
            } else {
                x.verdict.ok = false;
                x.verdict.seen = "harness error: " + error.substr(0, error.find('\n'));
            }
            fmt::print("    {:<4} {} / {} / {}: {}\n", x.verdict.ok ? "ok" : "FAIL", rows[i].topic,
                       rows[i].kernel.name(), rows[i].expected, x.verdict.seen);
        }
        std::fflush(stdout);
    }
    double total = std::chrono::duration<double>(Clock::now() - start).count();
    json records = records_of(rows, results);
    std::string summary = fmt::format("{}, accel {}, {:.0f} s in all, {} of the matrix's {} boots for {} of its {} rows{}.\n",
                                      utc_now("%Y-%m-%dT%H:%MZ"), global.accel, total, ran, boots.size(),
                                      records.size(), rows.size(),
                                      options.shard.empty() ? "" : fmt::format(" (shard {})", options.shard));
    json doc = {{"rows_in_matrix", rows.size()}, {"boots_in_matrix", boots.size()}, {"shard", options.shard},
                {"summary", summary}, {"records", records}};
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
    for (const auto& f : files) {
        try {
            parts.push_back(json::parse(read_file(f)));
            boots = parts.back().value("boots_in_matrix", std::size_t{0});
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
    std::string summary = fmt::format("{}, merged from {} part(s): {} boots for {} rows, {} s of boots in all.\n",
                                      utc_now("%Y-%m-%dT%H:%MZ"), parts.size(), boots, records.size(), seconds);
    fs::path out_root = workspace_paths(global).out;
    fs::create_directories(out_root);
    json doc = {{"rows_in_matrix", records.size()}, {"boots_in_matrix", boots}, {"shard", ""},
                {"summary", summary}, {"records", records}};
    std::string md = proof_markdown(records, summary);
    write_file_atomically(out_root / "proof.md", md);
    write_file_atomically(out_root / "proof.json", doc.dump(2) + "\n");
    fmt::print("\n{}", md);
    for (const auto& r : records)
        if (r.at("verdict") != "ok") return kExitTestFailure;
    return kExitPass;
}

}  // namespace mmguard
