// The proof matrix's outputs: one JSON record per row (the row's index in
// the whole matrix, so shards can be merged), and the markdown table made
// from those records alone, so a merged set of shards gives the same table
// as one run.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmguard {

// The table (proof.md) of `records`, sorted by their "row"; `summary` is the
// line under the title (when, accel, seconds, boots).
std::string proof_markdown(const nlohmann::json& records, const std::string& summary);

// The records of several shards' proof.json files as one array sorted by
// row. Throws HarnessError if a row is missing or given twice, if the parts
// disagree on the matrix size, or if a part is not a proof.json.
nlohmann::json merge_proof_records(const std::vector<nlohmann::json>& parts);

// "i/N" -> {i, N} with 1 <= i <= N; throws HarnessError otherwise.
std::pair<int, int> parse_shard(const std::string& text);

// Shard (0-based) of each boot: boots go, longest first, to the shard with
// the least work so far (ties: the lower shard), which balances shards by
// the boots' measured seconds; deterministic for the same input.
std::vector<int> assign_shards(const std::vector<double>& boot_seconds, int shards);

}  // namespace mmguard
