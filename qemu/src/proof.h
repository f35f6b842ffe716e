// `mmguard proof`: the proof matrix (proof_plan.h) run through the same
// stages as `mmguard run`, each kernel built once and each distinct
// (kernel, options) combination booted once, every row judged on the
// in-memory result. Writes OUT/proof.md and OUT/proof.json.
#pragma once
#include <string>
#include <vector>

#include "run_options.h"

namespace mmguard {

struct ProofOptions {
    std::string shard;   // "i/N": only this share of the boots; "" for all
    std::vector<std::string> only;   // rows whose topic starts with one of these; empty: all
    bool list = false;   // print the boots and their rows, run nothing
};

// Returns 0 when every row is as expected, 1 when some row is not. With
// --shard I/N it runs its share of the boots (balanced by the seconds of
// Documentation/proof.json) and writes OUT/proof-shard-I-of-N.{md,json}.
int run_proof(const RunOptions& global, const ProofOptions& options);

// `mmguard merge`: the shards' proof-shard-*.json (files, or folders holding
// them) as one OUT/proof.md and proof.json, the same table as one run.
int run_proof_merge(const RunOptions& global, const std::vector<std::string>& inputs);

}  // namespace mmguard
