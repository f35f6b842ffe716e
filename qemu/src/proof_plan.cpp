#include "proof_plan.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "file_io.h"
#include "process.h"

namespace mmguard {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split_words(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    std::string w;
    while (in >> w) words.push_back(w);
    return words;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

void add_reproducer(std::vector<ProofRow>& rows, const std::string& line, const std::string& where) {
    std::istringstream in(line);
    std::string kind, name;
    in >> kind >> name;
    std::string expect;
    std::getline(in, expect);
    expect = trim(expect);
    std::vector<std::string> words;
    if (kind == "selftest") words = {"--selftest", name, "--kunit-filter", "none"};
    else if (kind == "kunit") words = {"--no-selftests", "--kunit-filter", name};
    else throw HarnessError(fmt::format("{}: unknown kind '{}' (selftest or kunit)", where, kind));
    if (name.empty() || expect.empty())
        throw HarnessError(fmt::format("{}: want 'KIND NAME EXPECTATION [args: OPTIONS]'", where));
    if (auto at = expect.find(" args: "); at != std::string::npos) {
        for (auto& w : split_words(expect.substr(at + 7))) words.push_back(w);
        expect = trim(expect.substr(0, at));
    }
    ProofRow base{name, "reproducer", {true, {}}, words, ProofExpect::Pass, "", "", ""};
    if (expect == "fail") {
        base.expect = ProofExpect::SuiteFails;
        base.suite = name;
        base.expected = "suite fails";
    } else if (expect.rfind("report: ", 0) == 0) {
        base.expect = ProofExpect::Report;
        base.pattern = trim(expect.substr(8));
        base.expected = fmt::format("report /{}/", base.pattern);
    } else {
        throw HarnessError(fmt::format("{}: expectation '{}' is neither 'fail' nor 'report: RE'", where, expect));
    }
    ProofRow patched{name, "reproducer", {false, {}}, words, ProofExpect::Pass, "", "", "pass, no report"};
    rows.push_back(std::move(base));
    rows.push_back(std::move(patched));
}

// The first "Name: value" line of a mutation patch's header.
std::string header(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("diff --git ", 0) == 0) break;
        if (line.rfind(name + ":", 0) == 0) return trim(line.substr(name.size() + 1));
    }
    return "";
}

void add_mutation(std::vector<ProofRow>& rows, const fs::path& patch) {
    std::string text = read_file(patch);
    std::string name = patch.stem().string();
    std::string boot = header(text, "Mutation-Boot");
    std::string expect = header(text, "Mutation-Expect");
    std::string args = header(text, "Mutation-Args");
    std::string fails = header(text, "Mutation-Fails");
    if (expect.empty())
        throw HarnessError(fmt::format("{}: no Mutation-Expect: line (what the check must say)", patch.string()));
    std::vector<std::string> words;
    for (auto& w : split_words(boot)) {
        words.push_back("--append");
        words.push_back(w);
    }
    for (auto& w : split_words(args.empty() ? "--no-selftests" : args)) words.push_back(w);
    ProofRow healthy{name, "check", {false, {}}, words, ProofExpect::Pass, "", "",
                     boot.empty() ? "silent" : fmt::format("silent ({})", boot)};
    ProofRow mutated{name, "check", {false, patch}, words, ProofExpect::Report, expect, "", ""};
    if (!fails.empty()) {
        mutated.expect = ProofExpect::SuiteFails;
        mutated.suite = fails;
        mutated.expected = fmt::format("{} fails: /{}/", fails, expect);
    } else {
        mutated.expected = fmt::format("report /{}/", expect);
    }
    rows.push_back(std::move(healthy));
    rows.push_back(std::move(mutated));
}

// 0 for the patched kernel, 1 for a mutation, 2 for the base.
int kernel_rank(const ProofKernel& k) { return k.base ? 2 : k.mutation.empty() ? 0 : 1; }

}  // namespace

std::string ProofKernel::name() const {
    return base ? "base" : mutation.empty() ? "patched" : "patched + mutation";
}

std::vector<ProofRow> read_proof_rows(const fs::path& patches_dir) {
    std::vector<ProofRow> rows;
    fs::path list = patches_dir / "reproducers";
    std::istringstream in(read_file(list));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        add_reproducer(rows, t, fmt::format("{}:{}", list.string(), n));
    }
    std::vector<fs::path> mutations;
    if (fs::is_directory(patches_dir / "mutations"))
        for (const auto& e : fs::directory_iterator(patches_dir / "mutations"))
            if (e.path().extension() == ".patch") mutations.push_back(e.path());
    std::sort(mutations.begin(), mutations.end());
    for (const auto& m : mutations) add_mutation(rows, m);
    return rows;
}

std::vector<ProofRow> read_harness_rows(const fs::path& file) {
    std::vector<ProofRow> rows;
    std::istringstream in(read_file(file));
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        std::string where = fmt::format("{}:{}", file.string(), n);
        auto at = t.find(" args: ");
        if (at == std::string::npos) throw HarnessError(fmt::format("{}: want 'NAME EXPECTATION args: OPTIONS'", where));
        std::istringstream head(t.substr(0, at));
        std::string name, expect;
        head >> name;
        std::getline(head, expect);
        expect = trim(expect);
        ProofRow r{"harness-" + name, "harness", {false, {}}, split_words(t.substr(at + 7)), ProofExpect::Hang, "",
                   "", "hang"};
        if (expect.rfind("report: ", 0) == 0) {
            r.expect = ProofExpect::Report;
            r.pattern = trim(expect.substr(8));
            r.expected = fmt::format("report /{}/", r.pattern);
        } else if (expect != "hang") {
            throw HarnessError(fmt::format("{}: expectation '{}' is neither 'hang' nor 'report: RE'", where, expect));
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

std::vector<ProofBoot> plan_proof_boots(const std::vector<ProofRow>& rows) {
    std::vector<ProofBoot> boots;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        auto same = std::find_if(boots.begin(), boots.end(), [&](const ProofBoot& b) {
            return b.kernel == rows[i].kernel && b.words == rows[i].words;
        });
        if (same != boots.end()) same->rows.push_back(i);
        else boots.push_back({rows[i].kernel, rows[i].words, {i}});
    }
    // Stable: within a kernel, boots keep the order of their first row; each
    // mutation's boots stay together.
    std::map<fs::path, std::size_t> first_of_mutation;
    for (std::size_t i = 0; i < boots.size(); ++i) first_of_mutation.try_emplace(boots[i].kernel.mutation, i);
    std::stable_sort(boots.begin(), boots.end(), [&](const ProofBoot& a, const ProofBoot& b) {
        if (kernel_rank(a.kernel) != kernel_rank(b.kernel)) return kernel_rank(a.kernel) < kernel_rank(b.kernel);
        return first_of_mutation[a.kernel.mutation] < first_of_mutation[b.kernel.mutation];
    });
    return boots;
}

std::vector<std::size_t> proof_run_order(const std::vector<ProofBoot>& boots, const std::vector<bool>& runs) {
    std::vector<std::size_t> first;                // boots of the first kernel to run
    std::vector<std::vector<std::size_t>> others;  // the other kernels' boots, a group per kernel
    for (std::size_t n = 0; n < boots.size(); ++n) {
        if (!runs[n]) continue;
        if (first.empty() || boots[first.front()].kernel == boots[n].kernel)
            first.push_back(n);
        else if (!others.empty() && boots[others.back().front()].kernel == boots[n].kernel)
            others.back().push_back(n);
        else
            others.push_back({n});
    }
    std::vector<std::size_t> order;
    std::size_t next_first = 0;
    if (next_first < first.size()) order.push_back(first[next_first++]);
    for (const auto& group : others) {
        order.insert(order.end(), group.begin(), group.end());
        if (next_first < first.size()) order.push_back(first[next_first++]);
    }
    order.insert(order.end(), first.begin() + static_cast<std::ptrdiff_t>(next_first), first.end());
    return order;
}

std::vector<std::string> report_patterns_to_stop_after(const ProofBoot& boot, const std::vector<ProofRow>& rows) {
    std::vector<std::string> patterns;
    for (std::size_t i : boot.rows) {
        if (rows[i].expect != ProofExpect::Report) return {};
        patterns.push_back(rows[i].pattern);
    }
    return patterns;
}

}  // namespace mmguard
