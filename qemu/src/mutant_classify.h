// What became of a mutant: not compiled, equivalent (same object code as
// the unmutated tree), killed (with what killed it) or survived.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "qemu_boot.h"

namespace mmguard {

enum class MutantStatus { NotCompiled, Equivalent, Killed, Survived };

const char* to_string(MutantStatus s);
// Throws HarnessError on an unknown name.
MutantStatus mutant_status_from(const std::string& s);

// What a boot of a mutant showed, reduced to what the verdict needs.
struct BootEvidence {
    std::string outcome;                     // to_string(BootOutcome)
    std::vector<std::string> report_titles;  // in order of appearance
    std::vector<std::string> report_signatures;
    std::vector<std::string> failed_tests;   // "suite.case" of each failed/crashed/not-run leaf
    int passed = 0;                          // leaf tests that passed
};

BootEvidence evidence_of(const BootResult& boot);

struct MutantVerdict {
    MutantStatus status = MutantStatus::Survived;
    std::string killed_by;   // "" unless killed
};

// The objects' disassembly (normalised) of the mutated and unmutated tree:
// equal means equivalent. `compiled` false: not compiled.
// `boot` is needed only for a compiled, non-equivalent mutant.
// Killed by, in this order: the first kernel report's title ("WARNING in
// f"), the first failing test ("test: suite.case"), a boot that did not
// complete ("boot: hang"); a boot where nothing ran at all is killed too
// ("boot: no tests ran").
MutantVerdict classify_mutant(bool compiled, const std::string& object_code, const std::string& base_code,
                              const std::optional<BootEvidence>& boot);

// objdump -d -r text with what does not depend on the code left out: the
// file name header and symbol addresses (objdump --no-addresses prints none,
// but a jump's target "<f+0x1c>" keeps the offset: that is code).
std::string normalise_disassembly(const std::string& objdump_text);

}  // namespace mmguard
