#include "initramfs.h"
#include "shell_quote.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "process.h"
#include "progress.h"

namespace mmguard {
namespace {

constexpr const char* kBusybox = "/bin/busybox";

fs::path build_gen_init_cpio(const Workspace& ws, const fs::path& log) {
    fs::path src = ws.src() / "usr/gen_init_cpio.c";
    fs::path bin = ws.work / "gen_init_cpio";
    if (fs::exists(bin) && fs::last_write_time(bin) >= fs::last_write_time(src)) return bin;
    ProcessSpec cc;
    cc.argv = {"cc", "-O2", "-o", bin.string(), src.string()};
    if (run_logged(cc, log.string()) != 0) throw HarnessError("cannot build usr/gen_init_cpio; see " + log.string());
    return bin;
}

std::vector<std::string> build_selftests(const Workspace& ws, const fs::path& log) {
    fs::path out = ws.work / "selftests";
    if (!fs::exists(ws.selftests() / "Makefile")) return {};
    fs::create_directories(out);
    ProcessSpec make;
    make.argv = {"make", "-C", ws.selftests().string(), "KSRC=" + ws.src().string(), "O=" + out.string(),
                 fmt::format("-j{}", std::max(1u, std::thread::hardware_concurrency()))};
    if (run_logged(make, log.string()) != 0)
        throw HarnessError("building the selftests failed; see " + log.string());
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(ws.selftests()))
        if (e.path().extension() == ".c" && fs::exists(out / e.path().stem()))
            names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

// The shared objects a dynamic binary needs, as ldd lists them.
std::vector<fs::path> shared_libraries(const fs::path& binary) {
    ProcessSpec ldd;
    ldd.argv = {"ldd", binary.string()};
    std::string out = run_capture(ldd, "ldd " + binary.string());
    std::vector<fs::path> libs;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        auto arrow = line.find("=> ");
        std::string rest = arrow == std::string::npos ? line : line.substr(arrow + 3);
        auto b = rest.find_first_not_of(" \t");
        if (b == std::string::npos || rest[b] != '/') continue;
        libs.emplace_back(rest.substr(b, rest.find(' ', b) - b));
    }
    return libs;
}

// Adds `file` at its own path, with its parent directories, to the spec;
// `dirs` holds the paths the spec has already (a library trinity and
// stress-ng share goes in once).
void add_host_file(std::ostream& spec, std::set<std::string>& dirs, const fs::path& file, int mode) {
    if (!dirs.insert(file.string()).second) return;
    std::vector<fs::path> parents;  // deepest first
    for (fs::path d = file.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path()) parents.push_back(d);
    // A directory must come before what it holds, or the kernel's unpacker drops it.
    for (auto d = parents.rbegin(); d != parents.rend(); ++d)
        if (dirs.insert(d->string()).second) spec << "dir " << d->string() << " 0755 0 0\n";
    spec << fmt::format("file {} {} {:o} 0 0\n", file.string(), fs::canonical(file).string(), mode);
}

}  // namespace

std::string read_stress_ng_args(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw HarnessError(fmt::format("cannot read {}", file.string()));
    std::vector<std::string> words;
    std::string line;
    while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        for (const auto& w : split_words(line)) words.push_back(w);
    }
    if (words.empty()) throw HarnessError(fmt::format("{} names no stressor", file.string()));
    for (const auto& w : words)
        if (w == "--timeout" || w.rfind("--timeout=", 0) == 0)
            throw HarnessError(fmt::format("{}: leave --timeout out; --stress-ng SECONDS sets it", file.string()));
    return fmt::format("{}", fmt::join(words, " "));
}

const std::vector<std::string>& all_churners() {
    static const std::vector<std::string> names = {"min_free_kbytes", "compaction",  "thp",        "cpu_hotplug", "cma",
                                                   "memory",          "drop_caches", "kpageflags", "thp_fork"};
    return names;
}

Initramfs build_initramfs(const Workspace& ws, const GuestPlan& plan, const fs::path& log) {
    Stage stage("initramfs", "busybox, selftests, init");
    if (!fs::exists(kBusybox))
        throw HarnessError("/bin/busybox not found: run 'make deps' (package busybox-static)");
    fs::path gen = build_gen_init_cpio(ws, log);
    Initramfs result;
    std::vector<std::string> built = plan.run_selftests ? build_selftests(ws, log) : std::vector<std::string>{};
    if (plan.selftests.empty()) {
        result.selftests = built;
    } else {
        for (const auto& name : plan.selftests) {
            if (std::find(built.begin(), built.end(), name) == built.end())
                throw HarnessError(fmt::format("no selftest named '{}' (have: {})", name, fmt::join(built, ", ")));
            result.selftests.push_back(name);
        }
    }

    const fs::path trinity = "/usr/bin/trinity";
    result.trinity = plan.trinity_seconds > 0;
    if (result.trinity && !fs::exists(trinity))
        throw HarnessError("/usr/bin/trinity not found: run 'make deps' (package trinity)");

    fs::path stage_dir = ws.guest();
    fs::create_directories(stage_dir);
    fs::path plan_file = stage_dir / "plan";
    std::vector<std::string> churners;
    for (const auto& c : plan.churners) {
        if (c == "none") continue;
        if (c == "all") {
            churners = all_churners();
            break;
        }
        if (std::find(all_churners().begin(), all_churners().end(), c) == all_churners().end())
            throw HarnessError(fmt::format("no churner named '{}' (have: all, {})", c, fmt::join(all_churners(), ", ")));
        churners.push_back(c);
    }
    if (!churners.empty() && !result.trinity)
        throw HarnessError("churners run beside trinity: give --trinity-seconds too");
    const fs::path stress_ng = "/usr/bin/stress-ng";
    std::string stress_ng_args;
    if (plan.stress_ng_seconds > 0) {
        if (!result.trinity) throw HarnessError("stress-ng runs beside trinity: give --trinity-seconds too");
        if (plan.stress_ng_seconds > plan.trinity_seconds)
            throw HarnessError(fmt::format("--stress-ng {} is longer than the trinity session (--trinity-seconds {})",
                                           plan.stress_ng_seconds, plan.trinity_seconds));
        if (!fs::exists(stress_ng)) throw HarnessError("/usr/bin/stress-ng not found: run 'make deps' (package stress-ng)");
        stress_ng_args = read_stress_ng_args(ws.guest_files() / "stress-ng.args");
    }
    // The thp_fork churner's helper: static, like the selftests.
    bool thp_fork = std::find(churners.begin(), churners.end(), "thp_fork") != churners.end();
    if (thp_fork) {
        ProcessSpec cc;
        cc.argv = {"cc", "-static", "-O2", "-Wall", "-o", (stage_dir / "thp_fork").string(),
                   (ws.guest_files() / "thp_fork.c").string()};
        if (run_logged(cc, log.string()) != 0) throw HarnessError("cannot build qemu/guest/thp_fork.c; see " + log.string());
    }
    for (const auto& name : plan.extra_run) {
        bool known = std::any_of(plan.extra_files.begin(), plan.extra_files.end(),
                                 [&](const auto& f) { return f.first == name; });
        if (!known) throw HarnessError(fmt::format("extra program '{}' has no file", name));
        result.selftests.push_back(name);
    }
    for (const auto& [name, host] : plan.extra_files)
        if (!fs::exists(host)) throw HarnessError(fmt::format("extra program '{}': {} not found", name, host.string()));
    std::vector<std::string> steps = result.selftests;
    if (result.trinity) steps.push_back("trinity");
    // Every string value is one quoted shell word; TRINITY_ARGS holds the
    // user's words already quoted, since trinity-session.sh expands it inside
    // `su -c "..."`, a second shell.
    std::ofstream(plan_file) << fmt::format(
        "SELFTESTS={}\nSELFTEST_TIMEOUT={}\n"
        "TRINITY_SECONDS={}\nTRINITY_SEED={}\nTRINITY_CHILDREN={}\nTRINITY_ARGS={}\nCHURNERS={}\nCOVERAGE_PORT={}\n"
        "STRESS_NG_SECONDS={}\nSTRESS_NG_ARGS={}\n",
        shell_quote(fmt::format("{}", fmt::join(steps, " "))),
        // The session's own bounded waits: 30 s for trinity to stop, 60 s for stress-ng.
        std::max(plan.selftest_timeout, plan.trinity_seconds + 60 + (plan.stress_ng_seconds > 0 ? 60 : 0)),
        plan.trinity_seconds, plan.trinity_seed,
        plan.trinity_children, shell_quote(shell_quote_words(split_words(plan.trinity_args))),
        shell_quote(fmt::format("{}", fmt::join(churners, " "))), shell_quote(plan.coverage_port),
        plan.stress_ng_seconds, shell_quote(stress_ng_args));

    fs::path spec = stage_dir / "initramfs.spec";
    {
        std::ofstream s(spec);
        for (const char* d : {"/bin", "/sbin", "/usr", "/usr/bin", "/dev", "/proc", "/sys", "/tmp",
                              "/etc", "/etc/mmguard", "/selftests", "/root"})
            s << "dir " << d << " 0755 0 0\n";
        s << "nod /dev/console 0600 0 0 c 5 1\n"
          << "nod /dev/null 0666 0 0 c 1 3\n"
          << "file /bin/busybox " << kBusybox << " 0755 0 0\n"
          << "slink /bin/sh /bin/busybox 0777 0 0\n"
          << "file /init " << (ws.guest_files() / "init.sh").string() << " 0755 0 0\n"
          << "file /etc/mmguard/plan " << plan_file.string() << " 0644 0 0\n";
        for (const auto& t : result.selftests) {
            if (std::find(plan.extra_run.begin(), plan.extra_run.end(), t) != plan.extra_run.end()) continue;
            s << "file /selftests/" << t << " " << (ws.work / "selftests" / t).string() << " 0755 0 0\n";
        }
        for (const auto& [name, host] : plan.extra_files)
            s << "file /selftests/" << name << " " << host.string() << " 0755 0 0\n";
        if (result.trinity) {
            std::set<std::string> dirs = {"/bin", "/sbin", "/usr", "/usr/bin", "/etc"};
            add_host_file(s, dirs, trinity, 0755);
            for (const auto& lib : shared_libraries(trinity)) add_host_file(s, dirs, lib, 0755);
            s << "file /selftests/trinity " << (ws.guest_files() / "trinity-session.sh").string() << " 0755 0 0\n";
            s << "file /etc/mmguard/churn.sh " << (ws.guest_files() / "churn.sh").string() << " 0755 0 0\n";
            if (thp_fork) s << "file /etc/mmguard/thp_fork " << (stage_dir / "thp_fork").string() << " 0755 0 0\n";
            if (plan.stress_ng_seconds > 0) {
                add_host_file(s, dirs, stress_ng, 0755);
                for (const auto& lib : shared_libraries(stress_ng)) add_host_file(s, dirs, lib, 0755);
            }
            std::ofstream(stage_dir / "passwd") << "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/false\n";
            std::ofstream(stage_dir / "group") << "root:x:0:\nnogroup:x:65534:\n";
            s << "file /etc/passwd " << (stage_dir / "passwd").string() << " 0644 0 0\n";
            s << "file /etc/group " << (stage_dir / "group").string() << " 0644 0 0\n";
        }
    }
    result.cpio = ws.work / "initramfs.cpio";
    ProcessSpec pack;
    pack.argv = {gen.string(), spec.string()};
    pack.stdout_path = result.cpio.string();
    pack.pipe_stdout = false;
    fs::remove(result.cpio);
    pack.stderr_to_stdout = false;
    pack.stderr_path = log.string();
    Child child(pack);
    if (exit_code_of(child.wait()) != 0) throw HarnessError("gen_init_cpio failed; see " + log.string());
    return result;
}

}  // namespace mmguard
