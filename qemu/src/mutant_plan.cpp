#include "mutant_plan.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "process.h"

namespace mmguard {

std::uint64_t SeededRandom::next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

std::uint64_t SeededRandom::below(std::uint64_t n) {
    // Rejection sampling: no modulo bias.
    std::uint64_t limit = ~0ull - (~0ull % n);
    for (;;) {
        std::uint64_t r = next();
        if (r < limit) return r % n;
    }
}

std::vector<Mutant> shuffled(std::vector<Mutant> mutants, std::uint64_t seed) {
    SeededRandom rng(seed);
    for (std::size_t i = mutants.size(); i > 1; --i) std::swap(mutants[i - 1], mutants[rng.below(i)]);
    return mutants;
}

std::set<std::string> done_ids(const std::filesystem::path& jsonl, const std::string& tree) {
    std::set<std::string> done;
    std::ifstream in(jsonl);
    if (!in) return done;
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
        nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string()) {
            if (i + 1 == lines.size()) break;   // torn last write
            throw HarnessError(fmt::format("{}:{}: not a mutant record", jsonl.string(), i + 1));
        }
        if (!tree.empty() && j.value("tree", std::string()) != tree) continue;
        done.insert(j["id"].get<std::string>());
    }
    return done;
}

std::vector<Mutant> still_to_run(const std::vector<Mutant>& order, const std::set<std::string>& done,
                                 std::size_t max) {
    std::vector<Mutant> out;
    for (const auto& m : order) {
        if (done.count(m.id)) continue;
        if (max > 0 && out.size() >= max) break;
        out.push_back(m);
    }
    return out;
}

}  // namespace mmguard
