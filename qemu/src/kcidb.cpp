#include "kcidb.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "digest.h"
#include "file_io.h"
#include "kernel_tree.h"
#include "process.h"

namespace mmguard {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kOrigin = "mmguard";
constexpr std::size_t kMaxExcerpt = 16384;  // the schema's log_excerpt maxLength

// results.json status -> KCIDB status. A case that crashed did not complete
// (ERROR); one that never ran was lost by the harness (MISS).
const std::map<std::string, std::string> kStatus = {
    {"pass", "PASS"}, {"fail", "FAIL"}, {"skip", "SKIP"},
    {"crashed", "ERROR"}, {"error", "ERROR"}, {"not run", "MISS"},
};

std::string kcidb_status(const json& t) {
    auto it = kStatus.find(t.value("status", "error"));
    return it == kStatus.end() ? "ERROR" : it->second;
}

// A KCIDB path component: [a-zA-Z0-9_-]+; anything else becomes '_'.
std::string path_part(const std::string& name) {
    std::string out;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        char ch = ok ? c : '_';
        if (ch == '_' && !out.empty() && out.back() == '_') continue;
        out += ch;
    }
    while (!out.empty() && out.back() == '_') out.pop_back();
    return out.empty() ? "_" : out;
}

std::string excerpt(const json& t) {
    std::string text;
    for (const auto& line : t.value("diagnostics", json::array())) text += line.get<std::string>() + "\n";
    if (t.contains("reason")) text += "reason: " + t["reason"].get<std::string>() + "\n";
    if (text.size() > kMaxExcerpt) text = text.substr(text.size() - kMaxExcerpt);  // the end says most
    return text;
}

std::string slurp_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw HarnessError(fmt::format("cannot read {}", p.string()));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool is_kunit_suite(const json& suite) {
    // KUnit suites are the kunit/ modules: all named mmguard_*.
    return suite.value("name", "").rfind("mmguard_", 0) == 0;
}

struct TestSink {
    const KcidbFacts& facts;
    std::string build_id;
    json tests = json::array();

    json& add(const std::string& path, const json& t) {
        json k = {{"id", fmt::format("{}:{}:{}", kOrigin, facts.run_id, path)},
                  {"build_id", build_id},
                  {"origin", kOrigin},
                  {"path", path},
                  {"status", kcidb_status(t)}};
        if (t.contains("seconds") && t["seconds"].is_number()) k["duration"] = t["seconds"];
        if (!facts.start_time.empty()) k["start_time"] = facts.start_time;
        std::string log = excerpt(t);
        if (!log.empty()) k["log_excerpt"] = log;
        tests.push_back(std::move(k));
        return tests.back();
    }

    // Every leaf case of a KUnit suite (parameterised cases are their own level).
    void add_cases(const std::string& prefix, const json& t) {
        std::string path = prefix + "." + path_part(t["name"]);
        if (!t.contains("subtests") || t["subtests"].empty()) {
            add(path, t);
            return;
        }
        for (const auto& s : t["subtests"]) add_cases(path, s);
    }
};

// A selftest program is one test; its own checks go into its log excerpt.
json selftest_view(const json& suite) {
    json v = suite;
    json lines = json::array();
    for (const auto& s : suite.value("subtests", json::array()))
        lines.push_back(fmt::format("{} {}", s.value("status", "?"), s.value("name", "")));
    for (const auto& d : suite.value("diagnostics", json::array())) lines.push_back(d);
    v["diagnostics"] = lines;
    return v;
}

}  // namespace

std::string kcidb_patchset_hash(const std::vector<std::string>& patch_contents) {
    if (patch_contents.empty()) return "";
    std::string sums;
    for (const auto& p : patch_contents) sums += sha256_hex(p) + "\n";
    return sha256_hex(sums);
}

KcidbFacts collect_kcidb_facts(const Workspace& ws, bool applied, const std::vector<std::string>& mutations) {
    KcidbFacts f;
    f.run_id = ws.out.filename().string();
    f.tree_name = "debian-linux-source-6.12";
    std::vector<std::string> contents;
    if (applied) {
        for (const auto& name : read_series(ws.patches() / "series")) {
            contents.push_back(slurp_file(ws.patches() / name));
            f.patch_files.push_back(name);
        }
    }
    for (const auto& m : mutations) {
        // As `--mutation` takes it (main.cpp): a path to a patch file, or
        // the name of one in patches/mutations/, with or without ".patch".
        fs::path p = m;
        if (!fs::exists(p)) p = ws.patches() / "mutations" / (p.extension() == ".patch" ? m : m + ".patch");
        contents.push_back(slurp_file(p));
        f.patch_files.push_back("mutations/" + p.filename().string());
    }
    f.patchset_hash = kcidb_patchset_hash(contents);
    std::vector<std::string> fragments;
    for (const auto& e : fs::directory_iterator(ws.kunit() / "configs"))
        if (e.path().extension() == ".config") fragments.push_back(e.path().stem().string());
    std::sort(fragments.begin(), fragments.end());
    f.config_name = "mmguard";
    for (const auto& n : fragments) f.config_name += "+" + n;
    std::ifstream compile_h(ws.obj() / "include/generated/compile.h");
    for (std::string line; std::getline(compile_h, line);) {
        auto at = line.find("LINUX_COMPILER");
        auto q1 = line.find('"');
        auto q2 = line.rfind('"');
        if (at != std::string::npos && q1 != std::string::npos && q2 > q1) f.compiler = line.substr(q1 + 1, q2 - q1 - 1);
    }
    f.start_time = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                               std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()));
    return f;
}

json to_kcidb(const json& results, const KcidbFacts& facts) {
    std::string checkout_id = fmt::format("{}:{}", kOrigin, facts.run_id);
    std::string build_id = checkout_id;
    std::string release = results.contains("boot") ? results["boot"].value("kernel_release", "") : "";

    json checkout = {{"id", checkout_id}, {"origin", kOrigin}, {"tree_name", facts.tree_name},
                     {"patchset_hash", facts.patchset_hash}, {"valid", true}};
    if (!release.empty()) checkout["git_commit_name"] = "v" + release;
    if (!facts.start_time.empty()) checkout["start_time"] = facts.start_time;
    checkout["comment"] = fmt::format("{} + {} mmguard patches ({})", facts.base_release.empty() ? release : facts.base_release,
                                      results.value("patches", json::array()).size(), results.value("label", ""));
    checkout["misc"] = {{"patches", results.value("patches", json::array())},
                        {"patch_files", facts.patch_files},
                        {"kernel_tree_head", results.value("kernel_tree", "")}};

    json build = {{"id", build_id}, {"checkout_id", checkout_id}, {"origin", kOrigin},
                  {"architecture", "x86_64"}, {"config_name", facts.config_name}, {"status", "PASS"}};
    if (!facts.compiler.empty()) build["compiler"] = facts.compiler;
    if (results.contains("build") && results["build"].contains("seconds")) build["duration"] = results["build"]["seconds"];
    if (!facts.start_time.empty()) build["start_time"] = facts.start_time;

    TestSink sink{facts, build_id};
    for (const auto& suite : results.value("suites", json::array())) {
        std::string name = suite.value("name", "");
        if (name == "trinity") {
            json& t = sink.add("trinity", selftest_view(suite));
            if (results.contains("trinity")) {
                const json& tr = results["trinity"];
                if (tr.contains("session") && tr["session"].contains("seconds")) t["duration"] = tr["session"]["seconds"];
                t["misc"] = tr;
            }
        } else if (is_kunit_suite(suite)) {
            if (!suite.contains("subtests") || suite["subtests"].empty())
                sink.add("kunit." + path_part(name), suite);  // a suite that crashed before its cases
            else
                for (const auto& c : suite["subtests"]) sink.add_cases("kunit." + path_part(name), c);
        } else {
            sink.add("selftests.mmguard." + path_part(name), selftest_view(suite));
        }
    }

    json issues = json::array(), incidents = json::array();
    int n = 0;
    for (const auto& r : results.value("reports", json::array())) {
        std::string signature = r.value("signature", "");
        std::string issue_id = fmt::format("{}:{}", kOrigin, sha256_hex(signature).substr(0, 16));
        issues.push_back({{"id", issue_id}, {"version", 0}, {"origin", kOrigin},
                          {"report_subject", signature},
                          {"comment", r.value("message", signature)},
                          {"culprit", {{"code", true}, {"tool", false}, {"harness", false}}},
                          {"misc", {{"kind", r.value("kind", "")}, {"function", r.value("function", "")},
                                    {"file", r.value("file", "")}}}});
        std::string context;
        for (const auto& l : r.value("context", json::array())) context += l.get<std::string>() + "\n";
        if (context.size() > kMaxExcerpt) context.resize(kMaxExcerpt);
        incidents.push_back({{"id", fmt::format("{}:{}:report{}", kOrigin, facts.run_id, ++n)},
                             {"origin", kOrigin}, {"issue_id", issue_id}, {"issue_version", 0},
                             {"build_id", build_id}, {"present", true},
                             {"comment", fmt::format("{} time(s): {}", r.value("count", 1), signature)},
                             {"misc", {{"count", r.value("count", 1)}, {"console_lines", r.value("console_lines", json::array())},
                                       {"context", context}}}});
    }

    json doc = {{"version", {{"major", 5}, {"minor", 0}}},
                {"checkouts", json::array({checkout})},
                {"builds", json::array({build})},
                {"tests", sink.tests}};
    if (!issues.empty()) {
        doc["issues"] = issues;
        doc["incidents"] = incidents;
    }
    return doc;
}

void write_kcidb_json(const Workspace& ws, const json& results, bool applied, const std::vector<std::string>& mutations) {
    write_file_atomically(ws.out / "kcidb.json",
                          to_kcidb(results, collect_kcidb_facts(ws, applied, mutations)).dump(2) + "\n");
}

}  // namespace mmguard
