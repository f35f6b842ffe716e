#include "kcidb.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_paths.h"
#include "test_files.h"

namespace mmguard {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kFixtures = testing::fixtures_dir();
const fs::path kDocs = testing::fixtures_dir() / "../../../Documentation";
const fs::path kValidator = testing::fixtures_dir() / "../validate_json.py";

json load(const fs::path& p) {
    std::ifstream in(p);
    return json::parse(in);
}

KcidbFacts facts() {
    KcidbFacts f;
    f.run_id = "20261204-201538-check";
    f.tree_name = "debian-linux-source-6.12";
    f.patchset_hash = kcidb_patchset_hash({"a\n", "b\n"});
    f.patch_files = {"0001-a.patch", "0002-b.patch"};
    f.config_name = "mmguard+kunit";
    f.compiler = "gcc (Debian 12.2.0-14+deb12u1) 12.2.0";
    f.start_time = "2026-12-04T20:15:38Z";
    return f;
}

// Runs the real validator (python3-jsonschema) on `doc`; its exit code.
int validate(const fs::path& schema, const json& doc, const std::string& name) {
    fs::path file = fs::temp_directory_path() / fmt::format("mmguard-{}-{}.json", name, ::getpid());
    std::ofstream(file) << doc.dump(2);
    int rc = std::system(fmt::format("python3 '{}' '{}' '{}'", kValidator.string(), schema.string(), file.string()).c_str());
    fs::remove(file);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const json* find_test(const json& doc, const std::string& path) {
    for (const auto& t : doc["tests"])
        if (t["path"] == path) return &t;
    return nullptr;
}

TEST(KcidbPatchsetHash, IsTheHashOfTheNewlineTerminatedPatchHashes) {
    // sha256sum p1 p2 | cut -c-64 | sha256sum, with p1 = "a\n", p2 = "b\n"
    EXPECT_EQ(kcidb_patchset_hash({"a\n", "b\n"}), "7b77b1b66500ed66bdb3e5f10e78f55ab6d4b404fa676ec1bee2ab5b31346a80");
    EXPECT_EQ(kcidb_patchset_hash({}), "");
}

TEST(Kcidb, OneCheckoutOneBuildAndEveryCase) {
    json doc = to_kcidb(load(kFixtures / "results-check.json"), facts());
    EXPECT_EQ(doc["version"]["major"], 5);
    ASSERT_EQ(doc["checkouts"].size(), 1u);
    ASSERT_EQ(doc["builds"].size(), 1u);
    EXPECT_EQ(doc["builds"][0]["checkout_id"], doc["checkouts"][0]["id"]);
    EXPECT_EQ(doc["builds"][0]["status"], "PASS");
    EXPECT_EQ(doc["builds"][0]["compiler"], "gcc (Debian 12.2.0-14+deb12u1) 12.2.0");
    EXPECT_EQ(doc["checkouts"][0]["patchset_hash"], kcidb_patchset_hash({"a\n", "b\n"}));

    const json* c = find_test(doc, "kunit.mmguard_isolation.mmguard_undo_isolation_restores_own_type");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ((*c)["status"], "PASS");
    const json* param = find_test(doc, "kunit.mmguard_freepages.mmguard_drain_all_pages_empties_high_orders.order_9");
    ASSERT_NE(param, nullptr);
    EXPECT_GT((*param)["duration"].get<double>(), 0);
    const json* skipped = find_test(doc, "kunit.mmguard_bench.mmguard_bench_thp_one_cpu");
    ASSERT_NE(skipped, nullptr);
    EXPECT_EQ((*skipped)["status"], "SKIP");
    const json* self = find_test(doc, "selftests.mmguard.thp_mapcount");
    ASSERT_NE(self, nullptr);
    EXPECT_NE((*self)["log_excerpt"].get<std::string>().find("pass split"), std::string::npos);
    const json* trinity = find_test(doc, "trinity");
    ASSERT_NE(trinity, nullptr);
    EXPECT_TRUE((*trinity)["misc"].contains("seed"));

    std::set<std::string> ids;
    for (const auto& t : doc["tests"]) ids.insert(t["id"].get<std::string>());
    EXPECT_EQ(ids.size(), doc["tests"].size()) << "test ids must be unique";
    EXPECT_FALSE(doc.contains("issues"));
}

TEST(Kcidb, KernelReportsBecomeIssuesAndIncidents) {
    json doc = to_kcidb(load(kFixtures / "results-reports.json"), facts());
    ASSERT_EQ(doc["issues"].size(), 3u);
    ASSERT_EQ(doc["incidents"].size(), 3u);
    EXPECT_EQ(doc["incidents"][2]["issue_id"], doc["issues"][2]["id"]);
    EXPECT_EQ(doc["incidents"][2]["misc"]["count"], 2);
    EXPECT_EQ(doc["issues"][2]["report_subject"],
              "kernel BUG in stable_page_flags: VM_BUG_ON_PAGE(page->compound_head & N)");
    EXPECT_EQ((*find_test(doc, "selftests.mmguard.kpageflags_thp_race"))["status"], "FAIL");
}

TEST(KcidbSchema, ProducedDocumentsValidate) {
    fs::path schema = kDocs / "kcidb-v5.schema.json";
    for (const char* fixture : {"results-check.json", "results-reports.json"})
        EXPECT_EQ(validate(schema, to_kcidb(load(kFixtures / fixture), facts()), "kcidb"), 0) << fixture;
}

// The validator must catch what the schema forbids, or the test above proves nothing.
TEST(KcidbSchema, BrokenCopiesAreRejected) {
    fs::path schema = kDocs / "kcidb-v5.schema.json";
    json good = to_kcidb(load(kFixtures / "results-reports.json"), facts());
    struct Break { const char* what; void (*apply)(json&); };
    const Break breaks[] = {
        {"unknown status", [](json& d) { d["tests"][0]["status"] = "CRASHED"; }},
        {"test without build_id", [](json& d) { d["tests"][0].erase("build_id"); }},
        {"path with a space", [](json& d) { d["tests"][0]["path"] = "kunit.order 1"; }},
        {"id without origin", [](json& d) { d["builds"][0]["id"] = "20261204"; }},
        {"v4 build 'valid'", [](json& d) { d["builds"][0]["valid"] = true; }},
        {"short patchset hash", [](json& d) { d["checkouts"][0]["patchset_hash"] = "abc"; }},
        {"major version 4", [](json& d) { d["version"]["major"] = 4; }},
        {"incident without issue_version", [](json& d) { d["incidents"][0].erase("issue_version"); }},
        {"log excerpt over 16 KiB", [](json& d) { d["tests"][0]["log_excerpt"] = std::string(16385, 'x'); }},
    };
    for (const auto& b : breaks) {
        json broken = good;
        b.apply(broken);
        EXPECT_EQ(validate(schema, broken, "broken"), 1) << b.what;
    }
}

TEST(KcidbSchema, ValidatorReportsUnreadableInputAsHarnessError) {
    int rc = std::system(fmt::format("python3 '{}' /nonexistent.json /nonexistent.json 2>/dev/null", kValidator.string()).c_str());
    EXPECT_EQ(WEXITSTATUS(rc), 3);
}

}  // namespace
}  // namespace mmguard

namespace mmguard {
namespace {

// `--mutation` takes a path or a name (with or without .patch); the proof
// passes full paths. The first version read "NAME.patch.patch" for a path,
// and every mutation run of the proof ended in a harness error.
TEST(KcidbFacts, AMutationGivenAsAPathOrANameIsRead) {
    auto root = testing::scratch_dir("kcidb-facts");
    Workspace ws;
    ws.project = root / "project";
    ws.out = root / "out" / "run";
    testing::put(ws.kunit() / "configs" / "base.config", "CONFIG_A=y\n");
    testing::put(ws.patches() / "series", "");
    testing::put(ws.patches() / "mutations" / "m.patch", "a mutation\n");
    auto by_path = collect_kcidb_facts(ws, true, {(ws.patches() / "mutations" / "m.patch").string()});
    auto by_name = collect_kcidb_facts(ws, true, {"m"});
    auto by_file_name = collect_kcidb_facts(ws, true, {"m.patch"});
    EXPECT_EQ(by_path.patch_files, std::vector<std::string>{"mutations/m.patch"});
    EXPECT_EQ(by_path.patchset_hash, by_name.patchset_hash);
    EXPECT_EQ(by_path.patchset_hash, by_file_name.patchset_hash);
    EXPECT_FALSE(by_path.patchset_hash.empty());
    fs::remove_all(root);
}

}  // namespace
}  // namespace mmguard
