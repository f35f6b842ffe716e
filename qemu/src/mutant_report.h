// out/mutate.md and out/mutate.json from the records of mutate.jsonl: per
// function and per operator, mutants generated / compiled / equivalent /
// killed / survived, what killed them, the survivors as diffs, run time.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmguard {

struct MutateSummary {
    std::uint64_t seed = 0;
    std::string tree;                          // patched tree commit
    std::map<std::string, int> generated_by_function;   // every mutant the operators made
    std::map<std::string, int> generated_by_operator;
    double wall_seconds = 0;                   // this invocation, setup included
    double budget_minutes = 0;
};

struct Tally {
    int generated = 0, run = 0, not_compiled = 0, equivalent = 0, killed = 0, survived = 0;
    int compiled() const { return run - not_compiled; }
    // Killed among compiled, non-equivalent mutants; -1 when there are none.
    double kill_rate() const;
};

// Tallies of the records (one JSON object per mutant: function, operator,
// status, killed_by...) by `key` ("function" or "operator").
std::map<std::string, Tally> tally_by(const std::vector<nlohmann::json>& records, const std::string& key);
Tally tally_all(const std::vector<nlohmann::json>& records);

nlohmann::json mutate_json(const std::vector<nlohmann::json>& records, const MutateSummary& s);
std::string mutate_markdown(const std::vector<nlohmann::json>& records, const MutateSummary& s);

// Every record of a mutate.jsonl for `tree` ("" for all), the last record of
// an id winning (a torn last line is ignored).
std::vector<nlohmann::json> read_records(const std::string& jsonl_path, const std::string& tree);

}  // namespace mmguard
