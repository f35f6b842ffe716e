#include "proof.h"

#include <chrono>
#include <ctime>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "process.h"
#include "proof_judge.h"
#include "proof_plan.h"
#include "run_pipeline.h"

namespace mmguard {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct RowResult {
    RowVerdict verdict;
    int exit_code = kExitHarnessError;
    std::size_t boot = 0;   // 1-based boot number
    double seconds = 0;     // of its boot, the kernel's build included
};

std::string boot_label(const ProofBoot& b, const std::vector<ProofRow>& rows, std::size_t n) {
    const ProofRow& first = rows[b.rows.front()];
    std::string kernel = b.kernel.base ? "base" : b.kernel.mutation.empty() ? "patched" : "mutation";
    return fmt::format("proof-{:02}-{}-{}", n, kernel, first.topic);
}

std::string cell(std::string s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

std::string utc_now(const char* format) {
    std::time_t now = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, format, std::gmtime(&now));
    return buf;
}

void write_outputs(const fs::path& out_root, const std::vector<ProofRow>& rows, const std::vector<RowResult>& results,
                   std::size_t boots, const std::string& accel, double total) {
    std::string md = "# mmguard proof matrix\n\n";
    md += fmt::format("{}, accel {}, {:.0f} s in all, {} boots for {} rows.\n", utc_now("%Y-%m-%dT%H:%MZ"), accel,
                      total, boots, rows.size());
    md += "Rows that need the same kernel with the same boot options are judged from one boot\n"
          "(the 'boot' column); 'seconds' is that boot's, the kernel's build included.\n\n";
    md += "| topic | what | kernel | expected | verdict | seen (first report @ printk time) | boot | seconds |\n";
    md += "| ----- | ---- | ------ | -------- | ------- | ---------------------------------- | ---- | ------- |\n";
    json cells = json::array();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const ProofRow& r = rows[i];
        const RowResult& x = results[i];
        std::string verdict = x.verdict.ok ? "ok" : "FAIL";
        md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:.0f}s |\n", cell(r.topic), r.what, r.kernel.name(),
                          cell(r.expected), verdict, cell(x.verdict.seen), x.boot, x.seconds);
        cells.push_back({{"topic", r.topic}, {"what", r.what}, {"kernel", r.kernel.name()},
                         {"expected", r.expected}, {"verdict", verdict}, {"seen", x.verdict.seen},
                         {"boot", x.boot}, {"seconds", static_cast<long>(x.seconds + 0.5)}, {"exit", x.exit_code}});
    }
    write_file_atomically(out_root / "proof.md", md);
    write_file_atomically(out_root / "proof.json", cells.dump(2) + "\n");
    fmt::print("\n{}", md);
}

}  // namespace

int run_proof(const RunOptions& global, const ProofOptions& options) {
    auto start = Clock::now();
    Workspace root = workspace_paths(global);
    fs::path out_root = root.out;
    fs::create_directories(out_root);
    std::vector<ProofRow> rows = read_proof_rows(root.patches());
    std::vector<ProofBoot> boots = plan_proof_boots(rows);
    std::vector<RowResult> results(rows.size());
    if (options.list) {
        for (std::size_t n = 0; n < boots.size(); ++n) {
            fmt::print("boot {:>2}: {} kernel{}, {}\n", n + 1, boots[n].kernel.name(),
                       boots[n].kernel.mutation.empty() ? "" : " " + boots[n].kernel.mutation.stem().string(),
                       fmt::join(boots[n].words, " "));
            for (auto i : boots[n].rows) fmt::print("         {} {}: {}\n", rows[i].topic, rows[i].what, rows[i].expected);
        }
        fmt::print("{} rows, {} boots\n", rows.size(), boots.size());
        return kExitPass;
    }

    std::optional<ProofKernel> built;   // the kernel in the build directory
    RunInfo built_info;
    std::string build_error;            // why `built` could not be built
    for (std::size_t n = 0; n < boots.size(); ++n) {
        const ProofBoot& b = boots[n];
        auto t0 = Clock::now();
        RunOptions o = global;
        o.base = b.kernel.base;
        o.mutations.clear();
        if (!b.kernel.mutation.empty()) o.mutations.push_back(b.kernel.mutation.string());
        std::string label = boot_label(b, rows, n + 1);
        o.label = label;
        parse_run_words(o, b.words, label);
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
                    PreparedTree tree = run_prepare(ws, o);
                    BuildResult br = run_build(ws, o);
                    built_info.kernel_tree = tree.head_commit;
                    built_info.patches = tree.applied;
                    built_info.build_seconds = br.seconds;
                    built_info.compiled = br.compiled;
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
    write_outputs(out_root, rows, results, boots.size(), global.accel, total);
    for (const auto& x : results)
        if (!x.verdict.ok) return kExitTestFailure;
    return kExitPass;
}

}  // namespace mmguard
