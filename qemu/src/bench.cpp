#include "bench.h"

#include <chrono>
#include <ctime>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "bench_table.h"
#include "file_io.h"
#include "kernel_tree.h"
#include "process.h"
#include "run_pipeline.h"

namespace mmguard {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

struct BuiltKernel {
    RunInfo info;
    fs::path image;
};

BuiltKernel build_and_keep(const RunOptions& global, bool base, int first_patches, bool shift_code) {
    RunOptions o = global;
    o.base = base;
    if (!base && first_patches > 0) {
        // The base with the first patches of the series on top.
        Workspace paths = workspace_paths(global);
        auto names = read_series(paths.patches() / "series");
        if (static_cast<std::size_t>(first_patches) > names.size())
            throw HarnessError(fmt::format("--first-patches {}: the series has {} patches", first_patches, names.size()));
        o.base = true;
        for (int i = 0; i < first_patches; ++i) o.mutations.push_back((paths.patches() / names[i]).string());
    }
    if (shift_code) o.mutations.push_back((workspace_paths(global).project / kShiftCodePatch).string());
    Workspace ws = make_workspace(o, base ? "bench-build-base" : "bench-build-patched");
    BuiltKernel k;
    k.info = run_prepare_and_build(ws, o, ws.out.filename().string());
    k.image = ws.work / "bench" / (base ? "base.bzImage" : "patched.bzImage");
    fs::create_directories(k.image.parent_path());
    std::error_code ec;
    fs::copy_file(ws.bzimage(), k.image, fs::copy_options::overwrite_existing, ec);
    if (ec) throw HarnessError(fmt::format("cannot keep {} as {}: {}", ws.bzimage().string(), k.image.string(), ec.message()));
    return k;
}

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a + " " + b + " " + c;
}

std::string table(const std::vector<BenchRow>& rows, const char* unit) {
    std::string md = fmt::format("| case | pairs | base {0} | patched {0} | ratio median | ratio min | ratio max | per-pair ratios |\n", unit);
    md += "| ---- | ----- | --------- | ------------ | ------------ | --------- | --------- | --------------- |\n";
    for (const auto& r : rows) {
        std::vector<std::string> list;
        for (double x : r.ratios) list.push_back(fmt::format("{:.3f}", x));
        md += fmt::format("| {} | {} | {:.1f} | {:.1f} | {:.3f} | {:.3f} | {:.3f} | {} |\n", r.name, r.pairs, r.base,
                          r.patched, r.ratio_median, r.ratio_min, r.ratio_max, fmt::join(list, " "));
    }
    return md;
}

json rows_json(const std::vector<BenchRow>& rows) {
    json a = json::array();
    for (const auto& r : rows)
        a.push_back({{"case", r.name}, {"pairs", r.pairs}, {"base", r.base}, {"patched", r.patched},
                     {"ratio_median", r.ratio_median}, {"ratio_min", r.ratio_min}, {"ratio_max", r.ratio_max},
                     {"ratios", r.ratios}});
    return a;
}

std::vector<BenchRow> only(const std::vector<BenchRow>& rows, bool alloc) {
    std::vector<BenchRow> out;
    for (const auto& r : rows)
        if ((r.name.rfind("alloc ", 0) == 0) == alloc) out.push_back(r);
    return out;
}

}  // namespace

int run_bench(const RunOptions& global, const BenchOptions& options) {
    auto start = std::chrono::steady_clock::now();
    std::string load_start = loadavg();
    fs::path out_root = workspace_paths(global).out;
    // The base first, so the build directory ends with the patched kernel.
    BuiltKernel base = build_and_keep(global, true, 0, options.shift_code);
    BuiltKernel patched = build_and_keep(global, false, options.first_patches, options.shift_code);
    std::vector<std::map<std::string, BenchFigure>> figures[2];   // [0] base, [1] patched
    for (int pair = 1; pair <= options.pairs; ++pair) {
        for (int side : pair % 2 ? std::vector<int>{0, 1} : std::vector<int>{1, 0}) {
            const BuiltKernel& k = side == 0 ? base : patched;
            RunOptions o = global;
            o.base = side == 0;
            o.kernel_image = k.image.string();
            std::vector<std::string> words = {"--kunit-filter", "mmguard_bench", "--cpus", std::to_string(options.cpus),
                                              "--tsc-clock", "--append", "mmguard_bench.run=1"};
            if (options.kpage) {
                words.push_back("--selftest");
                words.push_back("kpage_read_cost");
            } else {
                words.push_back("--no-selftests");
            }
            if (options.ms > 0) {
                words.push_back("--append");
                words.push_back(fmt::format("mmguard_bench.ms={}", options.ms));
            }
            parse_run_words(o, words, "bench");
            std::string label = fmt::format("bench-{}-{}", side == 0 ? "base" : "patched", pair);
            fmt::print("\n==> bench pair {} of {}: {}\n", pair, options.pairs, side == 0 ? "base" : "patched");
            std::fflush(stdout);
            Workspace ws = make_workspace(o, label);
            RunInfo info = k.info;
            info.label = label;
            info.build_seconds = 0;
            RunResult r = run_boot_and_finish(ws, o, info);
            if (interrupted()) throw Interrupted();
            auto f = bench_figures(r.boot);
            if (r.verdict.exit_code != kExitPass || f.empty()) {
                fmt::print(stderr, "bench: the {} boot of pair {} {}; see {}\n", side == 0 ? "base" : "patched", pair,
                           f.empty() ? "printed no figures" : "failed", ws.out.string());
                return kExitTestFailure;
            }
            figures[side].push_back(std::move(f));
        }
    }
    // Pairs are aligned: figures[0][i] and figures[1][i] are pair i + 1.
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto medians = bench_rows(figures[0], figures[1], false);
    auto bests = bench_rows(figures[0], figures[1], true);
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::string md = "# The stack's cost: patched / base\n\n";
    if (options.first_patches > 0)
        md += fmt::format("'patched' here is the base with the first {} patches of patches/series only.\n\n",
                          options.first_patches);
    if (options.shift_code)
        md += fmt::format("Both kernels have {} on top (--shift-code): the same code, 2 KiB further on.\n\n",
                          kShiftCodePatch);
    md += fmt::format("{} pairs of boots (base and patched alternating, both kernels built once before the first),\n"
                      "{} vCPUs, accel {}, {}, {:.0f} s; host load average {} at the start, {} at the end.\n"
                      "The base and patched columns are medians over the boots; the ratio columns are over\n"
                      "the per-pair ratios patched/base.\n\n",
                      options.pairs, options.cpus, global.accel, when, secs, load_start, loadavg());
    md += "## Page allocation: ns per alloc_pages() + __free_pages() (KUnit mmguard_bench)\n\n";
    md += "The median of each boot's repetitions:\n\n" + table(only(medians, true), "ns/op");
    md += "\nThe best of each boot's repetitions (least disturbed by the host):\n\n" + table(only(bests, true), "ns/op");
    md += "\n## Full reads of /proc/kpageflags, kpagecount, kpagecgroup: ns per PFN, best of the boot's reads "
          "(selftest kpage_read_cost; thp=1: with THPs mapped)\n\n" + table(only(bests, false), "ns/PFN");
    json j = {{"pairs", options.pairs}, {"cpus", options.cpus}, {"seconds", secs}, {"first_patches", options.first_patches},
              {"shift_code", options.shift_code},
              {"median", rows_json(medians)}, {"best", rows_json(bests)}};
    write_file_atomically(out_root / "bench.md", md);
    write_file_atomically(out_root / "bench.json", j.dump(2) + "\n");
    fmt::print("\n{}\nbench: {}, {}\n", md, (out_root / "bench.md").string(), (out_root / "bench.json").string());
    return kExitPass;
}

}  // namespace mmguard
