// Which mutants a run tries, in which order: a seeded shuffle (the same
// seed gives the same order on every machine: our own Fisher-Yates over a
// splitmix64 stream, not std::shuffle whose algorithm is the library's),
// minus the ids an earlier run already recorded in mutate.jsonl.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "mutant_operators.h"

namespace mmguard {

// Deterministic PRNG (splitmix64).
class SeededRandom {
public:
    explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next();
    std::uint64_t below(std::uint64_t n);   // uniform in [0, n), n > 0

private:
    std::uint64_t state_;
};

// The mutants shuffled by `seed`.
std::vector<Mutant> shuffled(std::vector<Mutant> mutants, std::uint64_t seed);

// The ids recorded in a mutate.jsonl (one JSON object per line with "id"
// and "tree", the patched tree's commit the mutant was made from) for
// `tree` (records of another tree are stale: their line numbers name other
// code); "" takes every record. A torn last line, from a run killed
// mid-write, is ignored; any other unreadable line throws HarnessError
// naming the line. A missing file is an empty set.
std::set<std::string> done_ids(const std::filesystem::path& jsonl, const std::string& tree);

// The mutants still to run, in order: `order` without `done`, at most `max`
// (0: no cap).
std::vector<Mutant> still_to_run(const std::vector<Mutant>& order, const std::set<std::string>& done,
                                 std::size_t max);

}  // namespace mmguard
