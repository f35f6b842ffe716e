// A proof row's verdict, judged on the in-memory result of its boot.
#pragma once
#include <string>

#include "proof_plan.h"
#include "qemu_boot.h"

namespace mmguard {

struct RowVerdict {
    bool ok = false;
    std::string seen;   // what the boot showed, for the table
};

// `exit_code` is the boot's verdict (run_report.h's ExitCode).
RowVerdict judge_proof_row(const ProofRow& row, int exit_code, const BootResult& boot);

// "signature @ printk-time s" of the boot's first report, or "-".
std::string first_report(const BootResult& boot);

// Whether some report's title, alternative title or signature matches the
// RE2 `pattern` (anywhere in it; anchor with ^ and $).
bool has_report_matching(const BootResult& boot, const std::string& pattern);

}  // namespace mmguard
