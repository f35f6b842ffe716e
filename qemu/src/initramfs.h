// Builds the guest's initramfs without root: busybox-static, the selftests
// (static), an init script and its plan, packed by the kernel's own
// usr/gen_init_cpio from a spec file (device nodes need no mknod).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "workspace.h"

namespace mmguard {

struct GuestPlan {
    std::vector<std::string> selftests;   // names of selftests/<name>.c to run; empty: all
    bool run_selftests = true;
    int selftest_timeout = 300;           // seconds per selftest program
    // A trinity session after the selftests (0 seconds: none).
    int trinity_seconds = 0;
    unsigned trinity_seed = 0;
    int trinity_children = 2;
    std::string trinity_args = "-g vm -x remap_file_pages -x get_robust_list --disable-fds=sockets";
    // mm churners run beside trinity (qemu/guest/churn.sh); "all" for every one.
    std::vector<std::string> churners;
    // stress-ng beside trinity for the first this many seconds (0: none);
    // its stressors are qemu/guest/stress-ng.args.
    int stress_ng_seconds = 0;
    // Coverage runs only: after everything else, init writes
    // /sys/kernel/debug/gcov/**/*.gcda as a tar archive to this serial port
    // ("/dev/ttyS1", raw mode) and says so on the console (qemu/guest/init.sh).
    std::string coverage_port;
    // Programs from outside selftests/ (`mmguard mm-selftests`: the kernel's
    // own tools/testing/selftests/mm, built static): extra_files are put in
    // /selftests/ under their names (guest name -> host path), extra_run are
    // run in this order after the project's selftests, in the same KTAP document.
    std::vector<std::pair<std::string, std::filesystem::path>> extra_files;
    std::vector<std::string> extra_run;
};

// The stress-ng words of `file` (qemu/guest/stress-ng.args): every line's
// words, '#' to the end of a line a comment. Throws if it names nothing or
// sets --timeout (the session's --stress-ng sets it).
std::string read_stress_ng_args(const std::filesystem::path& file);

// Every churner qemu/guest/churn.sh knows, in the order "all" starts them.
const std::vector<std::string>& all_churners();

struct Initramfs {
    std::filesystem::path cpio;
    std::vector<std::string> selftests;   // what the guest will run, in order
    bool trinity = false;                 // a trinity session follows them
};

// Builds the selftests against build/src, then the cpio archive.
Initramfs build_initramfs(const Workspace& ws, const GuestPlan& plan, const std::filesystem::path& log);

}  // namespace mmguard
