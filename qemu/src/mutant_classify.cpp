#include "mutant_classify.h"

#include <fmt/format.h>

#include "process.h"

namespace mmguard {
namespace {

void collect(const TestResult& t, const std::string& prefix, BootEvidence& e) {
    std::string name = prefix.empty() ? t.name : prefix + "." + t.name;
    if (t.subtests.empty()) {
        if (t.status == TestStatus::Pass) ++e.passed;
        else if (t.status != TestStatus::Skip) e.failed_tests.push_back(name);
        return;
    }
    std::size_t before = e.failed_tests.size();
    for (const auto& s : t.subtests) collect(s, name, e);
    // A suite that failed with every case passing (a plan mismatch, a
    // crash between cases) still names itself.
    if (e.failed_tests.size() == before && t.status != TestStatus::Pass && t.status != TestStatus::Skip)
        e.failed_tests.push_back(name);
}

}  // namespace

const char* to_string(MutantStatus s) {
    switch (s) {
    case MutantStatus::NotCompiled: return "not_compiled";
    case MutantStatus::Equivalent: return "equivalent";
    case MutantStatus::Killed: return "killed";
    case MutantStatus::Survived: return "survived";
    }
    return "?";
}

MutantStatus mutant_status_from(const std::string& s) {
    for (auto st : {MutantStatus::NotCompiled, MutantStatus::Equivalent, MutantStatus::Killed, MutantStatus::Survived})
        if (s == to_string(st)) return st;
    throw HarnessError(fmt::format("unknown mutant status \"{}\"", s));
}

BootEvidence evidence_of(const BootResult& boot) {
    BootEvidence e;
    e.outcome = to_string(boot.outcome);
    for (const auto& g : boot.report_groups) {
        e.report_titles.push_back(g.first.title.empty() ? g.first.signature : g.first.title);
        e.report_signatures.push_back(g.first.signature);
    }
    for (const auto& t : boot.tests) collect(t, "", e);
    return e;
}

MutantVerdict classify_mutant(bool compiled, const std::string& object_code, const std::string& base_code,
                              const std::optional<BootEvidence>& boot) {
    if (!compiled) return {MutantStatus::NotCompiled, ""};
    if (object_code == base_code) return {MutantStatus::Equivalent, ""};
    if (!boot) throw HarnessError("a compiled mutant with new code needs a boot to be judged");
    if (!boot->report_titles.empty()) return {MutantStatus::Killed, "report: " + boot->report_titles.front()};
    if (!boot->failed_tests.empty()) return {MutantStatus::Killed, "test: " + boot->failed_tests.front()};
    if (boot->outcome != to_string(BootOutcome::Completed)) return {MutantStatus::Killed, "boot: " + boot->outcome};
    if (boot->passed == 0) return {MutantStatus::Killed, "boot: no tests ran"};
    return {MutantStatus::Survived, ""};
}

std::string normalise_disassembly(const std::string& text) {
    auto at = text.find("Disassembly of section");
    return at == std::string::npos ? text : text.substr(at);
}

}  // namespace mmguard
