#include "mm_selftests.h"

#include <chrono>
#include <ctime>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "file_io.h"
#include "mm_selftests_compare.h"
#include "process.h"
#include "run_pipeline.h"

namespace mmguard {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

// One program of tools/testing/selftests/mm: its source, the arguments that
// bound its run time, and how long it may take under TCG.
struct MmProgram {
    const char* name;
    const char* args;
    const char* topic;
    const char* extra_source = "";   // one more .c of the directory it links, if any
    const char* source = "";         // the program's .c without it, when not `name`

    std::string source_name() const { return *source ? source : name; }
};

// The set: the stack's topics (THP split/collapse/mapcount, compaction,
// migration, page faults and populate, mremap/mlock of THPs), programs that
// need nothing beyond libc, static.
const std::vector<MmProgram>& chosen() {
    static const std::vector<MmProgram> p = {
        {"split_huge_page_test", "", "THP split (debugfs split_huge_pages)"},
        {"transhuge-stress", "-d 20", "THP fault/split churn, 20 s"},
        {"compaction_test", "", "compaction"},
        {"khugepaged", "-s 2", "khugepaged/MADV_COLLAPSE, anon"},
        {"cow", "", "COW of THPs and pages, GUP pins"},
        {"madv_populate", "", "MADV_POPULATE_(READ|WRITE)"},
        {"mremap_test", "", "mremap of PMD/PTE ranges"},
        {"mlock2-tests", "", "mlock2/munlock"},
        {"soft-dirty", "", "soft-dirty bits, on THPs too (MEM_SOFT_DIRTY in the profile)"},
        {"gup_test-u", "-u", "get_user_pages_fast through the GUP_TEST debugfs file", "", "gup_test"},
        {"gup_test-a", "-a", "pin_user_pages_fast (FOLL_PIN) through GUP_TEST", "", "gup_test"},
        {"uffd-unit-tests", "", "userfaultfd: missing/wp/minor faults, move, events", "uffd-common.c"},
        {"pagemap_ioctl", "", "PAGEMAP_SCAN and soft-dirty/uffd-wp bits of THPs and pages"},
        {"mkdirty", "", "PMD/PTE dirty bit after mprotect/migration"},
        {"map_populate", "", "MAP_POPULATE"},
        {"mremap_dontunmap", "", "MREMAP_DONTUNMAP"},
        {"map_fixed_noreplace", "", "MAP_FIXED_NOREPLACE"},
    };
    return p;
}

// What is left out, and why.
const std::vector<std::pair<const char*, const char*>>& left_out() {
    static const std::vector<std::pair<const char*, const char*>> p = {
        {"thuge-gen, hugepage-*, hugetlb*, map_hugetlb, charge_reserved_hugetlb.sh, write_to_hugetlbfs",
         "need CONFIG_HUGETLBFS and reserved huge pages; the profile has no hugetlbfs"},
        {"uffd-stress", "runs minutes under TCG; uffd-unit-tests covers the same faults"},
        {"ksm_tests, ksm_functional_tests", "KSM is not in the config and not a topic of the stack"},
        {"gup_longterm", "not tried yet: long-term pins of memfd/tmpfile pages, not a topic of the stack"},
        {"hmm-tests, test_vmalloc.sh", "need test modules (TEST_HMM, TEST_VMALLOC); the guest loads no modules"},
        {"protection_keys, pkey_sighandler_tests, mseal_test, seal_elf, mdwe_test, memfd_secret",
         "not the stack's topics (pkeys, mseal, MDWE, secretmem)"},
        {"va_high_addr_switch, virtual_address_range", "5-level paging / 128 TiB of VA: slow under TCG, not a topic"},
        {"mrelease_test, on-fault-limit, mlock-random-test", "need process_mrelease / rlimit setup / libcap"},
        {"droppable", "MAP_DROPPABLE needs memory pressure; minutes under TCG"},
        {"migration", "needs libnuma (numa.h, libnuma.a for -static): Debian's libnuma-dev is not installed here"},
        {"run_vmtests.sh", "bash; the programs are run one by one instead, each with a time limit"},
    };
    return p;
}

struct Built {
    std::vector<std::string> programs;                        // built, in the chosen order
    std::vector<std::pair<std::string, std::string>> failed;  // name, first error line
    std::vector<std::pair<std::string, std::string>> files;   // guest name -> host path
};

std::string first_error(const fs::path& log) {
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line))
        if (line.find("error") != std::string::npos) return line.substr(0, 200);
    return "see " + log.string();
}

// The tree's uapi headers, then each program with vm_util.c and
// thp_settings.c (as tools/testing/selftests/mm/Makefile links them), -static.
Built build_programs(const Workspace& ws, const std::vector<std::string>& only) {
    fs::path dir = ws.work / "mm-selftests";
    fs::path hdr = ws.obj() / "usr";
    fs::path log = dir / "build.log";
    fs::create_directories(dir);
    fs::remove(log);
    ProcessSpec headers;
    // `make headers` (not headers_install, which needs rsync): the uapi
    // headers land in OBJ/usr/include.
    headers.argv = {"make", "-C", ws.src().string(), "O=" + ws.obj().string(), "headers"};
    if (run_logged(headers, log.string()) != 0) throw HarnessError("make headers failed; see " + log.string());
    fs::path mm = ws.src() / "tools/testing/selftests/mm";
    // What mm/check_config.sh writes without liburing (cow.c includes it).
    std::ofstream(dir / "local_config.h") << "// No liburing support found\n";
    Built b;
    for (const auto& p : chosen()) {
        if (!only.empty() && std::find(only.begin(), only.end(), p.name) == only.end()) continue;
        fs::path bin = dir / (std::string(p.name) + ".bin");
        fs::path one_log = dir / (std::string(p.name) + ".log");
        fs::remove(one_log);
        ProcessSpec cc;
        cc.argv = {"gcc", "-static", "-O2", "-Wall", "-D_GNU_SOURCE", "-isystem", (hdr / "include").string(),
                   "-isystem", (ws.src() / "tools/include/uapi").string(), "-I", ws.src().string(),
                   "-I", (ws.src() / "tools/testing/selftests").string(), "-I", dir.string(),
                   // khugepaged.c uses KSFT_SKIP without including kselftest.h
                   "-include", (ws.src() / "tools/testing/selftests/kselftest.h").string(), "-o", bin.string(),
                   (mm / (p.source_name() + ".c")).string(), (mm / "vm_util.c").string(),
                   (mm / "thp_settings.c").string()};
        if (*p.extra_source) cc.argv.push_back((mm / p.extra_source).string());
        for (const char* lib : {"-lrt", "-lpthread", "-lm"}) cc.argv.push_back(lib);
        if (run_logged(cc, one_log.string()) != 0) {
            b.failed.emplace_back(p.name, first_error(one_log));
            continue;
        }
        // A wrapper: run from /tmp (some programs create files in the
        // current directory) with the arguments that bound the run.
        fs::path wrap = dir / (std::string(p.name) + ".sh");
        std::ofstream(wrap) << fmt::format("#!/bin/sh\ncd /tmp\nexec /selftests/{}.bin {}\n", p.name, p.args);
        fs::permissions(wrap, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
        b.files.emplace_back(std::string(p.name) + ".bin", bin.string());
        b.files.emplace_back(p.name, wrap.string());
        b.programs.push_back(p.name);
    }
    if (b.programs.empty()) throw HarnessError("no mm selftest program built; see " + dir.string());
    return b;
}

struct Kernel {
    RunInfo info;
    fs::path image;
};

Kernel build_and_keep(const RunOptions& global, bool base) {
    RunOptions o = global;
    o.base = base;
    Workspace ws = make_workspace(o, base ? "mm-selftests-build-base" : "mm-selftests-build-patched");
    o.extra_fragments = {ws.project / "qemu/mm-selftests/mm.config"};
    Kernel k;
    PreparedTree tree = run_prepare(ws, o);
    BuildResult b = run_build(ws, o);
    k.info.kernel_tree = tree.head_commit;
    k.info.patches = tree.applied;
    k.info.build_seconds = b.seconds;
    k.info.compiled = b.compiled;
    k.image = ws.work / "mm-selftests" / (base ? "base.bzImage" : "patched.bzImage");
    fs::create_directories(k.image.parent_path());
    std::error_code ec;
    fs::copy_file(ws.bzimage(), k.image, fs::copy_options::overwrite_existing, ec);
    if (ec) throw HarnessError(fmt::format("cannot keep {} as {}: {}", ws.bzimage().string(), k.image.string(), ec.message()));
    return k;
}

std::string cell(const MmSide& s, const std::string& name) {
    auto it = s.tests.find(name);
    std::string c = to_string(it == s.tests.end() ? MmOutcome::Missing : it->second);
    if (auto w = s.why.find(name); w != s.why.end()) c += " (" + w->second + ")";
    return c;
}

}  // namespace

CLI::App* add_mm_selftests_command(CLI::App& app, RunOptions& o, MmSelftestsOptions& m) {
    auto* cmd = app.add_subcommand(
        "mm-selftests", "the kernel's own tools/testing/selftests/mm programs (static) on base and patched, one boot "
                        "each, compared per test (OUT/mm-selftests.md, mm-selftests.json); --work defaults to "
                        "build/mmselftests-work");
    cmd->add_option("--ksrc", o.ksrc, "use this kernel tree (read only) instead of Debian's linux-source-6.12");
    cmd->add_option("--tarball", o.tarball, "Debian kernel source tarball");
    cmd->add_option("--accel", o.accel, "auto (KVM if it works here), kvm or tcg")->check(CLI::IsMember({"auto", "kvm", "tcg"}));
    cmd->add_option("--test-timeout", m.timeout, "seconds per program")->capture_default_str()->check(CLI::Range(10, 3600));
    cmd->add_option("--only", m.only, "run only these programs");
    cmd->add_flag("--list", m.list, "print the chosen programs and what is left out; run nothing");
    return cmd;
}

int run_mm_selftests(const RunOptions& global, const MmSelftestsOptions& options) {
    if (options.list) {
        for (const auto& p : chosen()) fmt::print("{:<22} {:<8} {}\n", p.name, p.args, p.topic);
        fmt::print("\nleft out:\n");
        for (const auto& [n, why] : left_out()) fmt::print("  {}: {}\n", n, why);
        return kExitPass;
    }
    auto start = std::chrono::steady_clock::now();
    RunOptions g = global;
    if (g.work.empty()) g.work = (workspace_paths(global).project / "build/mmselftests-work").string();
    fs::path out_root = workspace_paths(g).out;
    // The base first, then the patched kernel (the build directory ends patched).
    Kernel base = build_and_keep(g, true);
    Built built = build_programs(workspace_paths(g), options.only);
    Kernel patched = build_and_keep(g, false);
    MmSide sides[2];
    double boot_seconds[2] = {0, 0};
    for (int side : {0, 1}) {
        const Kernel& k = side == 0 ? base : patched;
        RunOptions o = g;
        o.base = side == 0;
        o.kernel_image = k.image.string();
        // No project selftests; KUnit filtered to nothing (its suites are built in).
        std::vector<std::string> words = {"--no-selftests", "--kunit-filter", "none", "--append",
                                          "numa=fake=2",    "--selftest-timeout", std::to_string(options.timeout),
                                          "--timeout",
                                          std::to_string(600 + options.timeout * static_cast<int>(built.programs.size()))};
        parse_run_words(o, words, "mm-selftests");
        o.extra_files = built.files;
        o.extra_run = built.programs;
        std::string label = side == 0 ? "mm-selftests-base" : "mm-selftests-patched";
        fmt::print("\n==> mm selftests on {}\n", side == 0 ? "base" : "patched");
        std::fflush(stdout);
        Workspace ws = make_workspace(o, label);
        RunInfo info = k.info;
        info.label = label;
        info.build_seconds = 0;
        RunResult r = run_boot_and_finish(ws, o, info);
        if (interrupted()) throw Interrupted();
        boot_seconds[side] = r.boot.seconds;
        sides[side] = mm_side_from_tests(r.boot.tests, built.programs, static_cast<int>(r.boot.report_groups.size()),
                                         r.boot.outcome == BootOutcome::Completed);
    }
    MmComparison c = compare_mm_selftests(sides[0], sides[1]);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    std::string md = "# The kernel's own mm selftests: base vs patched\n\n";
    md += fmt::format("`mmguard mm-selftests` ({}), accel {}, {:.0f} s in all (boots: base {:.0f} s, patched {:.0f} s), "
                      "{} s limit per program, boot option `numa=fake=2`.\n\n",
                      when, g.accel, secs, boot_seconds[0], boot_seconds[1], options.timeout);
    md += fmt::format("**Verdict: {}**", c.ok ? "PASS" : "FAIL");
    md += c.ok ? " (patched passes every test base passes; no kernel report on patched)\n\n"
               : fmt::format(": {}\n\n", fmt::join(c.reasons, "; "));
    md += fmt::format("Totals: base {} pass / {} fail / {} skip; patched {} pass / {} fail / {} skip; "
                      "kernel reports: base {}, patched {}.\n\n",
                      c.count(false, MmOutcome::Pass), c.count(false, MmOutcome::Fail), c.count(false, MmOutcome::Skip),
                      c.count(true, MmOutcome::Pass), c.count(true, MmOutcome::Fail), c.count(true, MmOutcome::Skip),
                      sides[0].kernel_reports, sides[1].kernel_reports);
    md += "| test | base | patched | difference |\n| ---- | ---- | ------- | ---------- |\n";
    for (const auto& r : c.rows)
        md += fmt::format("| {} | {} | {} | {} |\n", r.name, cell(sides[0], r.name), cell(sides[1], r.name), r.difference);
    if (!c.both_fail.empty())
        md += fmt::format("\nFailing on both kernels (the base kernel's or TCG's problem, not the stack's): {}.\n",
                          fmt::join(c.both_fail, ", "));
    if (!built.failed.empty()) {
        md += "\nDid not build:\n\n";
        for (const auto& [n, e] : built.failed) md += fmt::format("- {}: `{}`\n", n, e);
    }
    md += "\nLeft out:\n\n";
    for (const auto& [n, why] : left_out()) md += fmt::format("- {}: {}\n", n, why);
    json rows = json::array();
    for (const auto& r : c.rows)
        rows.push_back({{"test", r.name}, {"base", to_string(r.base)}, {"patched", to_string(r.patched)},
                        {"difference", r.difference}, {"base_why", sides[0].why.count(r.name) ? sides[0].why.at(r.name) : ""},
                        {"patched_why", sides[1].why.count(r.name) ? sides[1].why.at(r.name) : ""}});
    json j = {{"ok", c.ok}, {"reasons", c.reasons}, {"seconds", secs}, {"accel", g.accel},
              {"boot_seconds", {{"base", boot_seconds[0]}, {"patched", boot_seconds[1]}}},
              {"kernel_reports", {{"base", sides[0].kernel_reports}, {"patched", sides[1].kernel_reports}}},
              {"rows", rows}, {"regressions", c.regressions}, {"both_fail", c.both_fail}};
    write_file_atomically(out_root / "mm-selftests.md", md);
    write_file_atomically(out_root / "mm-selftests.json", j.dump(2) + "\n");
    fmt::print("\n{}\nmm-selftests: {}, {}\n", md, (out_root / "mm-selftests.md").string(),
               (out_root / "mm-selftests.json").string());
    return c.ok ? kExitPass : kExitTestFailure;
}

}  // namespace mmguard
