// results.json as written by write_results_json() must match
// Documentation/results-schema.json (checked by python3-jsonschema).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_paths.h"
#include "run_report.h"

namespace mmguard {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kSchema = testing::fixtures_dir() / "../../../Documentation/results-schema.json";
const fs::path kValidator = testing::fixtures_dir() / "../validate_json.py";

int validate(const fs::path& file) {
    int rc = std::system(fmt::format("python3 '{}' '{}' '{}'", kValidator.string(), kSchema.string(), file.string()).c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

BootResult boot_with_everything() {
    BootResult b;
    b.outcome = BootOutcome::Completed;
    b.kernel_release = "6.12.118";
    b.qemu_argv = {"qemu-system-x86_64"};
    TestResult c;
    c.name = "case";
    c.number = 1;
    c.status = TestStatus::Skip;
    c.directive = "SKIP";
    c.diagnostics = {"# why"};
    TestResult s;
    s.name = "suite";
    s.number = 1;
    s.status = TestStatus::Pass;
    s.subtests = {c};
    b.tests = {s};
    KernelReport r;
    r.kind = "WARNING";
    r.signature = "WARNING in f";
    r.first_line = 3;
    r.last_line = 9;
    b.reports = {r};
    b.report_groups = deduplicate(b.reports);
    return b;
}

TEST(ResultsSchema, WrittenResultsValidateAndCarryTheSchemaVersion) {
    fs::path file = fs::temp_directory_path() / fmt::format("mmguard-results-{}.json", ::getpid());
    RunInfo info;
    info.label = "patched";
    info.trinity_seconds = 30;
    info.trinity_seed = 7;
    write_results_json(file, info, boot_with_everything(), Verdict{});
    json j = json::parse(std::ifstream(file));
    EXPECT_EQ(j["schema_version"], 1);
    EXPECT_EQ(validate(file), 0);
    fs::remove(file);
}

TEST(ResultsSchema, EveryBootOutcomeIsOneTheSchemaNames) {
    // The schema's enum lists the outcomes by their words: a new outcome
    // must be added there too, or its runs' results.json stop validating.
    fs::path file = fs::temp_directory_path() / fmt::format("mmguard-outcome-{}.json", ::getpid());
    for (BootOutcome o : {BootOutcome::Completed, BootOutcome::Panic, BootOutcome::Hang, BootOutcome::Timeout,
                          BootOutcome::Flood, BootOutcome::EarlyExit, BootOutcome::Interrupted, BootOutcome::Stopped}) {
        BootResult b = boot_with_everything();
        b.outcome = o;
        write_results_json(file, RunInfo{}, b, Verdict{});
        EXPECT_EQ(validate(file), 0) << to_string(o);
    }
    fs::remove(file);
}

TEST(ResultsSchema, RealRunsValidateOnceVersioned) {
    // Two results.json of real runs (before schema_version existed), versioned.
    for (const char* name : {"results-check.json", "results-reports.json"}) {
        json j = json::parse(std::ifstream(testing::fixtures_dir() / name));
        j["schema_version"] = 1;
        fs::path file = fs::temp_directory_path() / fmt::format("mmguard-real-{}.json", ::getpid());
        std::ofstream(file) << j.dump();
        EXPECT_EQ(validate(file), 0) << name;
        j["suites"][0]["status"] = "passed";  // not a status
        std::ofstream(file) << j.dump();
        EXPECT_EQ(validate(file), 1) << name << " with a bad status";
        fs::remove(file);
    }
}

}  // namespace
}  // namespace mmguard
