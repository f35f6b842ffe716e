// The proof matrix as data: its rows come from patches/reproducers (a bug
// the base kernel shows and the patched one does not) and from the headers
// of patches/mutations/*.patch (a check silent on the patched kernel that
// fires with its mutation). Rows that need the same kernel with the same
// boot options share one boot.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace mmguard {

// Which kernel a row needs: the base, the patched stack, or the stack with
// one mutation on top.
struct ProofKernel {
    bool base = false;
    std::filesystem::path mutation;   // empty: none
    // "base", "patched" or "patched + mutation" (the table's words).
    std::string name() const;
    bool operator==(const ProofKernel&) const = default;
};

enum class ProofExpect {
    Pass,         // exit 0: every test passes, no kernel report
    Report,       // exit 2 and some report's title or signature matches `pattern`
    SuiteFails,   // exit 1, `suite` fails; with a pattern, one of its diagnostic lines matches
    Hang,         // exit 2, the boot judged a hang (the harness's own check)
};

struct ProofRow {
    std::string topic;                // reproducer or mutation name
    std::string what;                 // "reproducer" or "check"
    ProofKernel kernel;
    std::vector<std::string> words;   // tool options of its boot (as `mmguard run` takes them)
    ProofExpect expect = ProofExpect::Pass;
    std::string pattern;              // RE2, see ProofExpect
    std::string suite;
    std::string expected;             // what the table says is expected
};

// Every row, in the table's order: per reproducer its base then patched row,
// then per mutation (by file name) its healthy then mutated row. Throws
// HarnessError naming the file and line on anything it does not understand.
std::vector<ProofRow> read_proof_rows(const std::filesystem::path& patches_dir);

// The harness's own checks (qemu/harness-checks): one row each, on the
// patched kernel, topic "harness-NAME", what "harness".
std::vector<ProofRow> read_harness_rows(const std::filesystem::path& file);

// One boot of the matrix and the rows judged from it.
struct ProofBoot {
    ProofKernel kernel;
    std::vector<std::string> words;
    std::vector<std::size_t> rows;    // indexes into the rows
};

// The distinct (kernel, options) boots, ordered so that each kernel is built
// once: the patched kernel first (what `make run` leaves built), then each
// mutation, then the base; within a kernel, in the order of their first row.
std::vector<ProofBoot> plan_proof_boots(const std::vector<ProofRow>& rows);

// The order of the chosen boots (runs[n]): the proof's build queue builds
// the kernels in the order of their first boot here, and each time a boot
// ends, the first waiting boot whose kernel is built runs next. The boots of
// the first kernel need no build after the first, so one of them is put
// before each other kernel's boots: while a kernel builds, a boot of the
// first kernel can run, and a kernel's own boots come right after its
// build. Each kernel's boots stay together and in their planned order.
std::vector<std::size_t> proof_run_order(const std::vector<ProofBoot>& boots, const std::vector<bool>& runs);

// When every row of the boot expects a kernel report, their patterns: the
// boot can end once each has been seen (everything after it cannot change
// those rows' verdicts). Otherwise none: the boot runs to its end.
std::vector<std::string> report_patterns_to_stop_after(const ProofBoot& boot, const std::vector<ProofRow>& rows);

}  // namespace mmguard
