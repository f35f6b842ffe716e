// The options of one run (`mmguard run`, `stress`, `boot`, a proof row's
// boot), their command-line definitions, and the defaults that depend on
// them.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "workspace.h"

namespace mmguard {

struct RunOptions {
    std::string project = ".";
    std::string work;
    std::string out;
    // tree
    std::string ksrc;
    std::string tarball = "/usr/src/linux-source-6.12.tar.xz";
    bool base = false;
    std::vector<std::string> mutations;
    bool force = false;
    // build
    int jobs = 0;
    // guest
    std::vector<std::string> selftests;
    bool no_selftests = false;
    int selftest_timeout = 300;
    int trinity_seconds = 0;
    unsigned trinity_seed = 0;      // 0: pick one at random
    int trinity_children = 2;
    std::string trinity_args = "-g vm -x remap_file_pages -x get_robust_list --disable-fds=sockets";
    std::vector<std::string> churners;
    // stress-ng (qemu/guest/stress-ng.args) beside trinity for the first
    // this many seconds of the session (0: none).
    int stress_ng_seconds = 0;
    // Config fragments merged over the project's (a profile such as
    // qemu/mm-selftests/mm.config); its own build directory, since a config
    // change rebuilds nearly everything.
    std::vector<std::filesystem::path> extra_fragments;
    // boot
    // mm-selftests: extra guest programs (see GuestPlan::extra_files/extra_run).
    std::vector<std::pair<std::string, std::string>> extra_files;
    std::vector<std::string> extra_run;
    std::string kernel_image;   // boot this bzImage instead of the build's (bench: a kept copy)
    std::string accel = "auto";
    int cpus = 2;
    std::string memory = "2G";
    std::vector<std::string> append;
    std::string kunit_filter;
    int silence_timeout = 120;
    int total_timeout = 1200;
    bool tsc_clock = false;
    int host_cpus = 0;
    std::string label;
    int repeat = 1;             // boot the built kernel this many times (run): per-test pass counts
    std::string expect_report;
    std::vector<std::string> expect_suites;
    std::vector<std::string> stop_after_reports;   // BootOptions::stop_after_reports
    std::string series_dir = "out/series";
    std::string series_mode;   // "", "check" or "update"
};

// The project, work and out root folders the options name (ws.out is the
// root, no run's folder is made).
Workspace workspace_paths(const RunOptions& o);
// A new out/<stamp>-<label>/ folder for a run (out/latest points to it).
Workspace make_workspace(const RunOptions& o, const std::string& label);

// Whether the session runs churner `name` ("all" runs every one).
bool runs_churner(const RunOptions& o, const std::string& name);
// Whether some --append word starts with `prefix`.
bool appended(const RunOptions& o, const std::string& prefix);
// `mmguard stress`: a stress session's defaults for every option the command
// line left out.
void apply_stress_defaults(RunOptions& o, CLI::App* cmd);
// The run's name in out/: --label, else mutation-NAME, base or patched.
std::string label_of(const RunOptions& o);

void add_tree_options(CLI::App* app, RunOptions& o);
void add_guest_options(CLI::App* app, RunOptions& o);
void add_boot_options(CLI::App* app, RunOptions& o);

// Reads tool option words (a proof row's "--selftest X --cpus 2 --base") onto
// `o` with the same definitions as `mmguard run`; throws HarnessError naming
// `where` on a word it does not know.
void parse_run_words(RunOptions& o, const std::vector<std::string>& words, const std::string& where);

}  // namespace mmguard
