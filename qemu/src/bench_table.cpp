#include "bench_table.h"

#include <algorithm>
#include <set>

#include <re2/re2.h>

namespace mmguard {
namespace {

void collect(const TestResult& t, std::map<std::string, BenchFigure>& out) {
    static const RE2 alloc(R"(mmguard_bench: case=(\S+) .*ns_per_op=(\d+) min=(\d+))");
    static const RE2 kpage(R"(kpage_read_cost: (\S+) (thp=\d) pfns=\d+ ns_per_pfn=([0-9.]+))");
    for (const auto& d : t.diagnostics) {
        std::string name, thp;
        double median = 0, best = 0, ns = 0;
        if (RE2::PartialMatch(d, alloc, &name, &median, &best)) out["alloc " + name] = {median, best};
        else if (RE2::PartialMatch(d, kpage, &name, &thp, &ns)) out[name + " " + thp] = {ns, ns};
    }
    for (const auto& s : t.subtests) collect(s, out);
}

}  // namespace

double median_of(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::map<std::string, BenchFigure> bench_figures(const BootResult& boot) {
    std::map<std::string, BenchFigure> out;
    for (const auto& t : boot.tests) collect(t, out);
    return out;
}

std::vector<BenchRow> bench_rows(const std::vector<std::map<std::string, BenchFigure>>& base,
                                 const std::vector<std::map<std::string, BenchFigure>>& patched, bool best) {
    std::set<std::string> names;
    for (const auto& b : base)
        for (const auto& [name, f] : b) names.insert(name);
    std::vector<BenchRow> rows;
    for (const auto& name : names) {
        BenchRow r;
        r.name = name;
        std::vector<double> bs, ps;
        for (std::size_t i = 0; i < base.size() && i < patched.size(); ++i) {
            auto b = base[i].find(name);
            auto p = patched[i].find(name);
            if (b == base[i].end() || p == patched[i].end()) continue;
            double bv = best ? b->second.best : b->second.median;
            double pv = best ? p->second.best : p->second.median;
            if (bv <= 0) continue;
            bs.push_back(bv);
            ps.push_back(pv);
            r.ratios.push_back(pv / bv);
        }
        if (r.ratios.empty()) continue;
        r.pairs = static_cast<int>(r.ratios.size());
        r.base = median_of(bs);
        r.patched = median_of(ps);
        r.ratio_median = median_of(r.ratios);
        r.ratio_min = *std::min_element(r.ratios.begin(), r.ratios.end());
        r.ratio_max = *std::max_element(r.ratios.begin(), r.ratios.end());
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace mmguard
