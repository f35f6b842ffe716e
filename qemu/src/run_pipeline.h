// One run's stages (prepare the tree, build, initramfs, boot, judge and
// write its reports) as `mmguard run` chains them; `mmguard proof` and
// `mmguard bench` call the same functions for each of their boots.
#pragma once
#include <filesystem>

#include "initramfs.h"
#include "kernel_build.h"
#include "kernel_tree.h"
#include "qemu_boot.h"
#include "run_options.h"
#include "run_report.h"

namespace mmguard {

// Everything a run found: what was built, what the guest did, the verdict.
// results.json, junit.xml, reports.txt, kcidb.json and the printed summary
// are views of it, all written by run_finish().
struct RunResult {
    RunInfo info;
    BootResult boot;
    Verdict verdict;
    std::filesystem::path out;   // the run's out/ folder
};

PreparedTree run_prepare(const Workspace& ws, const RunOptions& o);
BuildResult run_build(const Workspace& ws, const RunOptions& o);
// Picks a trinity seed when a session is asked for without one.
Initramfs run_initramfs(const Workspace& ws, RunOptions& o);
// Prints each top-level result and kernel report as the boot streams it.
BootObserver progress_observer();
BootResult run_boot(const Workspace& ws, const RunOptions& o, const std::filesystem::path& initrd);
// Judges the boot and writes every view of the result into ws.out.
RunResult run_finish(const Workspace& ws, const RunOptions& o, const RunInfo& info, BootResult boot);
// Prepare and build; the RunInfo says what was built.
RunInfo run_prepare_and_build(const Workspace& ws, const RunOptions& o, const std::string& label);
// The whole chain: prepare, build, initramfs, boot, finish.
RunResult run_once(const Workspace& ws, RunOptions& o, const std::string& label);
// Initramfs, boot and finish, for a kernel already built (info says which).
RunResult run_boot_and_finish(const Workspace& ws, RunOptions& o, RunInfo info);

}  // namespace mmguard
