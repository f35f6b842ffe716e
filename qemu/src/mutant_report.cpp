#include "mutant_report.h"

#include <fstream>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {
namespace {

std::string rate(const Tally& t) {
    double r = t.kill_rate();
    return r < 0 ? "-" : fmt::format("{:.0f} %", r * 100);
}

void count(Tally& t, const nlohmann::json& r) {
    ++t.run;
    std::string s = r.value("status", "");
    if (s == "not_compiled") ++t.not_compiled;
    else if (s == "equivalent") ++t.equivalent;
    else if (s == "killed") ++t.killed;
    else if (s == "survived") ++t.survived;
}

std::string table(const std::map<std::string, Tally>& rows, const char* what, const std::map<std::string, int>& gen) {
    std::string out = fmt::format("| {} | generated | run | not compiled | equivalent | killed | survived | kill rate |\n"
                                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
                                  what);
    std::map<std::string, Tally> all = rows;
    for (const auto& [k, n] : gen) all[k].generated = n;
    for (const auto& [k, t] : all)
        out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} | {} |\n", k, t.generated, t.run, t.not_compiled,
                           t.equivalent, t.killed, t.survived, rate(t));
    return out;
}

}  // namespace

double Tally::kill_rate() const {
    int scored = killed + survived;
    return scored == 0 ? -1 : static_cast<double>(killed) / scored;
}

std::map<std::string, Tally> tally_by(const std::vector<nlohmann::json>& records, const std::string& key) {
    std::map<std::string, Tally> out;
    for (const auto& r : records) count(out[r.value(key, std::string("?"))], r);
    return out;
}

Tally tally_all(const std::vector<nlohmann::json>& records) {
    Tally t;
    for (const auto& r : records) count(t, r);
    return t;
}

std::vector<nlohmann::json> read_records(const std::string& path, const std::string& tree) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::vector<nlohmann::json> out;
    std::map<std::string, std::size_t> at;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
        auto j = nlohmann::json::parse(lines[i], nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("id")) {
            if (i + 1 == lines.size()) break;
            throw HarnessError(fmt::format("{}:{}: not a mutant record", path, i + 1));
        }
        if (!tree.empty() && j.value("tree", std::string()) != tree) continue;
        std::string id = j["id"].get<std::string>();
        if (auto it = at.find(id); it != at.end()) out[it->second] = j;
        else {
            at[id] = out.size();
            out.push_back(j);
        }
    }
    return out;
}

nlohmann::json mutate_json(const std::vector<nlohmann::json>& records, const MutateSummary& s) {
    Tally all = tally_all(records);
    double mutant_seconds = 0;
    for (const auto& r : records) mutant_seconds += r.value("seconds", 0.0);
    nlohmann::json j;
    j["seed"] = s.seed;
    j["tree"] = s.tree;
    j["budget_minutes"] = s.budget_minutes;
    int generated = 0;
    for (const auto& [k, n] : s.generated_by_function) generated += n;
    j["summary"] = {{"generated", generated},      {"run", all.run},
                    {"compiled", all.compiled()},  {"not_compiled", all.not_compiled},
                    {"equivalent", all.equivalent}, {"killed", all.killed},
                    {"survived", all.survived},    {"kill_rate", all.kill_rate()},
                    {"mutant_seconds", mutant_seconds},
                    {"seconds_per_mutant", all.run ? mutant_seconds / all.run : 0.0},
                    {"wall_seconds_last_invocation", s.wall_seconds}};
    auto tallies = [&](const std::string& key, const std::map<std::string, int>& gen) {
        nlohmann::json rows = nlohmann::json::object();
        auto by = tally_by(records, key);
        for (const auto& [k, n] : gen) by[k].generated = n;
        for (const auto& [k, t] : by)
            rows[k] = {{"generated", t.generated}, {"run", t.run},         {"not_compiled", t.not_compiled},
                       {"equivalent", t.equivalent}, {"killed", t.killed}, {"survived", t.survived},
                       {"kill_rate", t.kill_rate()}};
        return rows;
    };
    j["by_function"] = tallies("function", s.generated_by_function);
    j["by_operator"] = tallies("operator", s.generated_by_operator);
    nlohmann::json mutants = nlohmann::json::array();
    for (const auto& r : records) {
        nlohmann::json m = {{"id", r.value("id", "")},
                            {"file", r.value("file", "")},
                            {"function", r.value("function", "")},
                            {"operator", r.value("operator", "")},
                            {"line", r.value("line", 0)},
                            {"description", r.value("description", "")},
                            {"status", r.value("status", "")},
                            {"compiled", r.value("status", "") != "not_compiled"},
                            {"equivalent", r.value("status", "") == "equivalent"},
                            {"killed", r.value("status", "") == "killed"},
                            {"survived", r.value("status", "") == "survived"},
                            {"killed_by", r.value("killed_by", "")},
                            {"seconds", r.value("seconds", 0.0)}};
        if (r.value("status", "") == "survived") m["diff"] = r.value("diff", "");
        mutants.push_back(std::move(m));
    }
    j["mutants"] = std::move(mutants);
    return j;
}

std::string mutate_markdown(const std::vector<nlohmann::json>& records, const MutateSummary& s) {
    Tally all = tally_all(records);
    double mutant_seconds = 0;
    for (const auto& r : records) mutant_seconds += r.value("seconds", 0.0);
    int generated = 0;
    for (const auto& [k, n] : s.generated_by_function) generated += n;
    std::string out = "# mmguard mutate\n\n";
    out += fmt::format("Seed {}, patched tree `{}`. {} mutants generated from {} functions; {} run: {} not compiled, "
                       "{} equivalent (same object code), {} killed, {} survived. Kill rate (killed / (killed + "
                       "survived)): {}. Mutant time {:.0f} s, {:.1f} s per mutant run.\n\n",
                       s.seed, s.tree.substr(0, 12), generated, s.generated_by_function.size(), all.run,
                       all.not_compiled, all.equivalent, all.killed, all.survived, rate(all), mutant_seconds,
                       all.run ? mutant_seconds / all.run : 0.0);
    out += "## By function\n\n" + table(tally_by(records, "function"), "function", s.generated_by_function);
    out += "\n## By operator\n\n" + table(tally_by(records, "operator"), "operator", s.generated_by_operator);
    std::map<std::string, int> killers;
    for (const auto& r : records)
        if (r.value("status", "") == "killed") ++killers[r.value("killed_by", "?")];
    out += "\n## Killed by\n\n| check or test | mutants |\n| --- | ---: |\n";
    for (const auto& [k, n] : killers) out += fmt::format("| {} | {} |\n", k, n);
    out += "\n## Every mutant run\n\n| id | change | status | killed by | s |\n| --- | --- | --- | --- | ---: |\n";
    for (const auto& r : records) {
        // A table cell: GitHub's tables take "\|" as a "|", in code spans too.
        std::string desc;
        for (char c : r.value("description", std::string())) {
            if (c == '|') desc += '\\';
            desc += c;
        }
        out += fmt::format("| `{}` | `{}` | {} | {} | {:.0f} |\n", r.value("id", ""), desc, r.value("status", ""),
                           r.value("killed_by", ""), r.value("seconds", 0.0));
    }
    out += "\n## Survivors\n\n";
    bool any = false;
    for (const auto& r : records) {
        if (r.value("status", "") != "survived") continue;
        any = true;
        out += fmt::format("### `{}`\n\n```diff\n{}```\n\n", r.value("id", ""), r.value("diff", ""));
    }
    if (!any) out += "None.\n";
    return out;
}

}  // namespace mmguard
