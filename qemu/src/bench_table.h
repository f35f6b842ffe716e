// The bench's figures: what one boot measured (parsed from its tests'
// diagnostic lines) and the patched/base ratios over pairs of boots.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "qemu_boot.h"

namespace mmguard {

// One figure of one boot: the median and the best of its repetitions
// (equal when the test prints only one).
struct BenchFigure {
    double median = 0;
    double best = 0;
};

// Every figure a boot printed, by case name:
//   "alloc order0-1cpu"       ns per alloc_pages()+__free_pages() (KUnit mmguard_bench:
//                             "mmguard_bench: case=NAME ... ns_per_op=N min=N ...")
//   "kpageflags thp=0"        ns per PFN of a full read (selftest kpage_read_cost:
//                             "kpage_read_cost: NAME thp=T pfns=N ns_per_pfn=F ...")
std::map<std::string, BenchFigure> bench_figures(const BootResult& boot);

// Per case over the pairs that have it on both sides: the medians of each
// side and the per-pair ratios patched/base (their median, min and max).
struct BenchRow {
    std::string name;
    int pairs = 0;
    double base = 0, patched = 0;
    double ratio_median = 0, ratio_min = 0, ratio_max = 0;
    std::vector<double> ratios;   // pair order
};

// `base[i]` and `patched[i]` are pair i's boots; `best` picks which figure.
std::vector<BenchRow> bench_rows(const std::vector<std::map<std::string, BenchFigure>>& base,
                                 const std::vector<std::map<std::string, BenchFigure>>& patched, bool best);

double median_of(std::vector<double> v);

}  // namespace mmguard
