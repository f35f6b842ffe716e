#include "qemu_boot.h"

#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "process.h"
#include "report_match.h"

namespace mmguard {

namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string find_qboot() {
    for (const char* p : {"/usr/share/qemu/qboot.rom", "/usr/share/qboot/bios.bin"})
        if (fs::exists(p)) return p;
    return "";
}

std::vector<std::string> qemu_argv(const BootOptions& o, const std::string& accel) {
    std::vector<std::string> argv = {"qemu-system-x86_64", "-accel", accel,
                                     "-nodefaults", "-display", "none", "-no-reboot",
                                     "-serial", "stdio",
                                     "-smp", std::to_string(o.cpus), "-m", o.memory,
                                     "-kernel", o.kernel.string()};
    if (auto bios = find_qboot(); !bios.empty()) argv.insert(argv.begin() + 1, {"-bios", bios});
    if (!o.initrd.empty()) argv.insert(argv.end(), {"-initrd", o.initrd.string()});
    for (const auto& f : o.serial_files) argv.insert(argv.end(), {"-serial", "file:" + f.string()});
    // panic=-1 and -no-reboot: a panicking or rebooting guest ends QEMU at once.
    std::string cmdline = "console=ttyS0 panic=-1";
    for (const auto& c : o.cmdline) cmdline += " " + c;
    argv.insert(argv.end(), {"-append", cmdline});
    if (o.host_cpus > 0) argv.insert(argv.begin(), {"taskset", "-c", first_host_cpus(o.host_cpus)});
    return argv;
}

}  // namespace

std::string first_host_cpus(int n) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) != 0)
        throw HarnessError(fmt::format("sched_getaffinity: {}", std::strerror(errno)));
    std::vector<int> cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE && static_cast<int>(cpus.size()) < n; ++cpu)
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    if (static_cast<int>(cpus.size()) < n)
        throw HarnessError(fmt::format("--host-cpus {}: the tool may only run on {} host CPU(s)", n,
                                       CPU_COUNT(&set)));
    return fmt::format("{}", fmt::join(cpus, ","));
}

const char* to_string(BootOutcome o) {
    switch (o) {
    case BootOutcome::Completed: return "completed";
    case BootOutcome::Panic: return "kernel panic";
    case BootOutcome::Hang: return "hang (console silent)";
    case BootOutcome::Timeout: return "time limit reached";
    case BootOutcome::Flood: return "console flood";
    case BootOutcome::EarlyExit: return "guest stopped early";
    case BootOutcome::Interrupted: return "interrupted";
    case BootOutcome::Stopped: return "stopped after the expected report";
    }
    return "?";
}

unsigned long host_tsc_khz() {
#if defined(__x86_64__)
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    bool constant = false, nonstop = false;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        std::istringstream words(line);
        for (std::string w; words >> w;) {
            constant |= w == "constant_tsc";
            nonstop |= w == "nonstop_tsc";
        }
        break;
    }
    if (!constant || !nonstop) return 0;
    auto t0 = Clock::now();
    unsigned long long c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    unsigned long long c1 = __rdtsc();
    double s = seconds_since(t0);
    return s > 0 ? static_cast<unsigned long>(static_cast<double>(c1 - c0) / s / 1000.0 + 0.5) : 0;
#else
    return 0;
#endif
}

std::string choose_accel(const BootOptions& o) {
    if (o.accel != "auto") return o.accel;
    if (::access("/dev/kvm", R_OK | W_OK) != 0) return "tcg";
    auto cache = o.state_dir / "kvm-works";
    if (fs::exists(cache)) {
        std::string v;
        std::ifstream(cache) >> v;
        return v == "yes" ? "kvm" : "tcg";
    }
    // /dev/kvm can exist and still not run a guest (nested virtualisation
    // without the needed MSRs hangs or aborts QEMU). Boot once and see.
    BootOptions probe = o;
    probe.initrd.clear();
    probe.serial_files.clear();
    probe.cmdline = {"kunit.enable=0"};
    ProcessSpec spec;
    spec.argv = qemu_argv(probe, "kvm");
    spec.stderr_to_stdout = true;
    bool works = false;
    {
        Child qemu(spec);
        auto start = Clock::now();
        std::string seen;
        char buf[4096];
        while (seconds_since(start) < 10 && !works) {
            pollfd p{qemu.stdout_fd(), POLLIN, 0};
            if (::poll(&p, 1, 200) > 0) {
                ssize_t n = ::read(qemu.stdout_fd(), buf, sizeof buf);
                if (n <= 0) break;
                seen.append(buf, static_cast<std::size_t>(n));
                works = seen.find("Linux version") != std::string::npos;
            }
            if (interrupted()) throw Interrupted();
        }
        qemu.terminate(std::chrono::milliseconds(200));
    }
    fs::create_directories(o.state_dir);
    std::ofstream(cache) << (works ? "yes" : "no") << "\n";
    return works ? "kvm" : "tcg";
}

BootResult boot_kernel(const BootOptions& o, const BootObserver& observer) {
    if (!fs::exists(o.kernel)) throw HarnessError(fmt::format("no kernel image at {}", o.kernel.string()));
    if (!have_program("qemu-system-x86_64"))
        throw HarnessError("qemu-system-x86_64 not found: run 'make deps' (package qemu-system-x86)");
    for (const auto& f : o.serial_files)
        if (!fs::is_directory(f.parent_path()))
            throw HarnessError(fmt::format("no directory for the serial port file {}", f.string()));
    if (o.host_cpus > 0 && !have_program("taskset"))
        throw HarnessError("taskset not found (--host-cpus): run 'make deps' (package util-linux)");
    fs::create_directories(o.out_dir);

    BootResult result;
    result.accel = choose_accel(o);
    BootOptions with_clock = o;
    // tsc=reliable: the clocksource watchdog compares the TSC with jiffies,
    // which are the ones that lose ticks; without it the guest went back to
    // refined-jiffies 4 s after boot in half the bench boots.
    if (o.tsc_clock && result.accel == "tcg")
        if (unsigned long khz = host_tsc_khz())
            with_clock.cmdline.insert(with_clock.cmdline.end(),
                                      {fmt::format("tsc_early_khz={}", khz), "tsc=reliable"});
    result.qemu_argv = qemu_argv(with_clock, result.accel);

    ConsoleSession session((o.out_dir / "console.log").string(), o.console_cap);
    auto start = Clock::now();
    session.on_top_level_result([&](const TestResult& t) {
        result.last_result_seconds = seconds_since(start);
        if (observer.on_result) observer.on_result(t);
    });
    ReportWaiter waiter(o.stop_after_reports);
    session.on_report([&](const KernelReport& r) {
        waiter.see(r);
        if (observer.on_report) observer.on_report(r);
    });

    ProcessSpec spec;
    spec.argv = result.qemu_argv;
    spec.stderr_to_stdout = false;
    spec.stderr_path = (o.out_dir / "qemu.log").string();
    std::ofstream(o.out_dir / "qemu.log") << "$ " << fmt::format("{}", fmt::join(spec.argv, " ")) << "\n";
    Child qemu(spec);

    auto last_output = Clock::now();
    std::optional<Clock::time_point> end_grace;   // after panic or done marker
    EndReason end_reason = EndReason::EndOfOutput;
    std::optional<BootOutcome> verdict;
    char buf[65536];
    while (qemu.stdout_fd() >= 0) {
        pollfd fds[2] = {{qemu.stdout_fd(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
        int r = ::poll(fds, interrupt_fd() >= 0 ? 2 : 1, 200);
        if (interrupted()) {
            verdict = BootOutcome::Interrupted;
            end_reason = EndReason::Timeout;
            break;
        }
        if (r > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = ::read(qemu.stdout_fd(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // QEMU closed the console: it exited
            session.feed(std::string_view(buf, static_cast<std::size_t>(n)));
            last_output = Clock::now();
        }
        if (session.flooded()) {
            verdict = BootOutcome::Flood;
            end_reason = EndReason::Timeout;
            break;
        }
        if (!end_grace && waiter.satisfied()) {
            verdict = BootOutcome::Stopped;
            end_reason = EndReason::Timeout;
            break;
        }
        if (!end_grace && (session.panicked() || session.done_marker_seen())) end_grace = Clock::now();
        // A panicking guest reboots (panic=-1) and a finished one reboots
        // itself; give QEMU a moment to go, then stop it.
        if (end_grace && seconds_since(*end_grace) > 10) break;
        if (!end_grace && seconds_since(last_output) > o.silence_timeout) {
            verdict = BootOutcome::Hang;
            end_reason = EndReason::Timeout;
            break;
        }
        if (seconds_since(start) > o.total_timeout) {
            verdict = BootOutcome::Timeout;
            end_reason = EndReason::Timeout;
            break;
        }
    }
    result.qemu_exit = exit_code_of(qemu.terminate(std::chrono::milliseconds(1000)));
    result.seconds = seconds_since(start);

    if (!verdict) {
        if (session.panicked()) verdict = BootOutcome::Panic;
        else if (session.done_marker_seen()) verdict = BootOutcome::Completed;
        else verdict = BootOutcome::EarlyExit;
    }
    if (*verdict == BootOutcome::Panic || *verdict == BootOutcome::EarlyExit)
        end_reason = EndReason::KernelCrash;
    session.finish(end_reason);
    // A panic report is complete only at its end marker, which a guest that
    // dies at once (panic=-1) may never print: finish() closes it.
    if (*verdict == BootOutcome::EarlyExit && session.panicked()) verdict = BootOutcome::Panic;
    result.outcome = *verdict;
    result.kernel_release = session.kernel_release();
    result.tests = session.results();
    result.reports = session.reports();
    result.report_groups = session.report_groups();
    result.last_kunit_printk_time = session.last_result_time();
    result.console_lines = session.lines();
    result.stress = session.stress();
    return result;
}

}  // namespace mmguard
