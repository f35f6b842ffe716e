#include "proof_report.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {
namespace {

using nlohmann::json;

std::string cell(const std::string& s) {
    std::string out;
    for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
}

}  // namespace

std::string proof_markdown(const json& records, const std::string& summary) {
    json sorted = records;
    std::sort(sorted.begin(), sorted.end(), [](const json& a, const json& b) { return a["row"] < b["row"]; });
    std::string md = "# mmguard proof matrix\n\n" + summary + "\n";
    md += "Rows that need the same kernel with the same boot options are judged from one boot\n"
          "(the 'boot' column); 'seconds' is that boot's, plus its kernel's build for the first boot\n"
          "of each kernel. The kernels are built one after another while the boots run (each boot as soon\n"
          "as its kernel is built), so the wall time is less than the sum.\n\n";
    md += "| topic | what | kernel | expected | verdict | seen (first report @ printk time) | boot | seconds |\n";
    md += "| ----- | ---- | ------ | -------- | ------- | ---------------------------------- | ---- | ------- |\n";
    for (const auto& r : sorted)
        md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {}s |\n", cell(r.at("topic")), r.at("what").get<std::string>(),
                          r.at("kernel").get<std::string>(), cell(r.at("expected")), r.at("verdict").get<std::string>(),
                          cell(r.at("seen")), r.at("boot").get<int>(), r.at("seconds").get<long>());
    return md;
}

json merge_proof_records(const std::vector<json>& parts) {
    json all = json::array();
    std::size_t total = 0;
    for (const auto& p : parts) {
        if (!p.is_object() || !p.contains("records") || !p.contains("rows_in_matrix"))
            throw HarnessError("not a proof.json of `mmguard proof` (no records / rows_in_matrix)");
        std::size_t n = p["rows_in_matrix"].get<std::size_t>();
        if (total != 0 && n != total)
            throw HarnessError(fmt::format("the parts come from different matrices ({} and {} rows)", total, n));
        total = n;
        for (const auto& r : p["records"]) all.push_back(r);
    }
    std::sort(all.begin(), all.end(), [](const json& a, const json& b) { return a["row"] < b["row"]; });
    std::vector<int> seen(total, 0);
    for (const auto& r : all) {
        std::size_t i = r.at("row").get<std::size_t>();
        if (i >= total) throw HarnessError(fmt::format("row {} is outside the matrix of {} rows", i, total));
        if (seen[i]++) throw HarnessError(fmt::format("row {} ({}) is in more than one part", i, r.at("topic").get<std::string>()));
    }
    for (std::size_t i = 0; i < total; ++i)
        if (!seen[i]) throw HarnessError(fmt::format("row {} of {} is in no part: a shard is missing", i, total));
    return all;
}

std::pair<int, int> parse_shard(const std::string& text) {
    int i = 0, n = 0;
    char slash = 0, extra = 0;
    if (std::sscanf(text.c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/' || n < 1 || i < 1 || i > n)
        throw HarnessError(fmt::format("--shard '{}': want I/N with 1 <= I <= N", text));
    return {i, n};
}

std::vector<int> assign_shards(const std::vector<double>& boot_seconds, int shards) {
    std::vector<std::size_t> order(boot_seconds.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return boot_seconds[a] > boot_seconds[b]; });
    std::vector<double> load(static_cast<std::size_t>(shards), 0);
    std::vector<int> shard(boot_seconds.size(), 0);
    for (std::size_t b : order) {
        auto least = std::min_element(load.begin(), load.end()) - load.begin();
        shard[b] = static_cast<int>(least);
        load[static_cast<std::size_t>(least)] += boot_seconds[b];
    }
    return shard;
}

}  // namespace mmguard
