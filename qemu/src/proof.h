// `mmguard proof`: the proof matrix (proof_plan.h) run through the same
// stages as `mmguard run`, each kernel built once and each distinct
// (kernel, options) combination booted once, every row judged on the
// in-memory result. Writes OUT/proof.md and OUT/proof.json.
#pragma once
#include <string>

#include "run_options.h"

namespace mmguard {

struct ProofOptions {
    std::string shard;   // "i/N": only this share of the boots; "" for all
    bool list = false;   // print the boots and their rows, run nothing
};

// Returns 0 when every row is as expected, 1 when some row is not.
int run_proof(const RunOptions& global, const ProofOptions& options);

}  // namespace mmguard
