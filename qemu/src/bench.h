// `mmguard bench`: the cost of the stack, as patched/base ratios over pairs
// of boots. Both kernels are built once (same config, one build directory)
// and their bzImages kept, so the pairs alternate with no rebuild between
// boots; within a pair the order alternates too (base first in odd pairs).
// Each boot runs the KUnit suite mmguard_bench (alloc_pages/__free_pages
// cost per order and CPU count) and the selftest kpage_read_cost (full
// reads of /proc/kpageflags, kpagecount, kpagecgroup). Writes OUT/bench.md
// and OUT/bench.json.
#pragma once
#include "run_options.h"

namespace mmguard {

struct BenchOptions {
    int pairs = 5;
    int cpus = 3;
    int ms = 0;   // mmguard_bench.ms= per case repetition (0: the suite's default)
    // The "patched" side has only the first this many patches of
    // patches/series (0: all): a bisect of a ratio over the stack.
    int first_patches = 0;
    bool kpage = true;   // also run the selftest kpage_read_cost
    // Both kernels get kShiftCodePatch on top: 2 KiB of no-ops in front of
    // mm/page_alloc.c's functions. Under TCG the allocator's ratios move by
    // 10-20 % with where the code lands (Documentation/bench.md); a ratio
    // that does not survive the shift is placement, not the patches.
    bool shift_code = false;
};

inline constexpr const char* kShiftCodePatch = "qemu/bench/shift-page-alloc-code.patch";

// 0 when every boot gave its figures; 1 (with the reason) otherwise.
int run_bench(const RunOptions& global, const BenchOptions& options);

}  // namespace mmguard
