// Boots the kernel in QEMU and judges its console as it streams.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "console_session.h"

namespace mmguard {

enum class BootOutcome {
    Completed,     // the guest's init said it was done and QEMU exited
    Panic,         // the kernel panicked
    Hang,          // no console output for the silence timeout
    Timeout,       // the overall time limit ran out while output still came
    Flood,         // the console exceeded its size cap
    EarlyExit,     // QEMU exited before the guest said it was done
    Interrupted,   // Ctrl-C / SIGTERM
    Stopped,       // ended by the harness once every report it waited for was seen
};

const char* to_string(BootOutcome outcome);

struct BootOptions {
    std::filesystem::path kernel;
    std::filesystem::path initrd;           // empty: none
    std::string accel = "auto";             // auto, kvm, tcg
    int cpus = 2;
    std::string memory = "2G";
    std::vector<std::string> cmdline;       // appended to the base command line
    int silence_timeout = 120;              // seconds without console output = hang
    int total_timeout = 1200;               // seconds for the whole boot
    std::size_t console_cap = 64u << 20;    // bytes of console kept
    std::filesystem::path out_dir;          // console.log, qemu.log go here
    std::filesystem::path state_dir;        // remembers whether KVM works here
    // Under TCG, boot with tsc_early_khz= the host's TSC frequency and
    // tsc=reliable, so the guest's clock is the TSC instead of
    // refined-jiffies (which loses ticks when the host is loaded: a 60 s
    // session took 137 s of wall time).
    bool tsc_clock = false;
    // Run QEMU on only this many of the host CPUs the tool may use (0: all),
    // through taskset: with more vCPUs than that, a vCPU can be stopped by
    // the host at any instruction, which is how races with a window of a
    // few instructions get hit under PREEMPT_NONE.
    int host_cpus = 0;
    // Host files that take the guest's second, third... serial port
    // (ttyS1, ttyS2...; the console is ttyS0): the coverage dump's way out,
    // apart from the console and its judge.
    std::vector<std::filesystem::path> serial_files;
    // RE2 patterns (report_match.h): end the boot as soon as each has matched
    // a complete kernel report (outcome Stopped). For boots that exist only
    // to show those reports; empty: run to the end.
    std::vector<std::string> stop_after_reports;
};

// The first `n` CPUs of the calling thread's affinity mask as a taskset list
// ("0,1"); throws HarnessError if it holds fewer.
std::string first_host_cpus(int n);

struct BootResult {
    BootOutcome outcome = BootOutcome::Completed;
    std::string accel;                      // what was used
    std::vector<std::string> qemu_argv;
    int qemu_exit = 0;
    double seconds = 0;                     // QEMU start to exit
    std::optional<double> last_result_seconds;  // QEMU start to the last top-level result
    std::optional<double> last_kunit_printk_time;  // guest clock of the last KUnit result
    std::string kernel_release;
    std::vector<TestResult> tests;
    std::vector<KernelReport> reports;          // the first ones, with context
    std::vector<ReportGroup> report_groups;     // all, deduplicated by signature
    std::size_t console_lines = 0;
    StressStats stress;                         // the trinity session, if any
};

// Called as results and reports arrive, for live progress.
struct BootObserver {
    std::function<void(const TestResult&)> on_result;
    std::function<void(const KernelReport&)> on_report;
};

BootResult boot_kernel(const BootOptions& options, const BootObserver& observer);

// The accelerator to use: "kvm" if /dev/kvm is usable and a probe boot of
// `kernel` prints within a few seconds (the answer is cached in state_dir),
// else "tcg".
std::string choose_accel(const BootOptions& options);

// The host's TSC frequency in kHz, measured over 100 ms; 0 unless the CPU
// says its TSC is constant and nonstop (/proc/cpuinfo) on x86_64.
unsigned long host_tsc_khz();

}  // namespace mmguard
