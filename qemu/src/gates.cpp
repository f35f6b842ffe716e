#include "gates.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "build_diagnostics.h"
#include "file_io.h"
#include "gate_data.h"
#include "git_repo.h"
#include "kernel_build.h"
#include "link_check.h"
#include "process.h"
#include "progress.h"
#include "series_files.h"

namespace mmguard {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The tree in build/src, switched between base and patched on demand.
class TreeSwitch {
public:
    TreeSwitch(const Workspace& ws, TreeOptions o) : ws_(ws), o_(std::move(o)) { o_.extra.clear(); }
    const PreparedTree& to(bool patched) {
        if (!current_ || patched_ != patched) {
            o_.apply_series = patched;
            tree_ = prepare_tree(ws_, o_);
            current_ = true;
            patched_ = patched;
        }
        return tree_;
    }

private:
    const Workspace& ws_;
    TreeOptions o_;
    PreparedTree tree_;
    bool current_ = false;
    bool patched_ = false;
};

struct Make {
    const Workspace& ws;
    fs::path obj;
    int jobs;
    fs::path log;

    // Runs make with `args`; returns the exit code, the output in `output`.
    int run(const std::vector<std::string>& args, std::string& output) const {
        ProcessSpec spec;
        spec.argv = {"make", "-C", ws.src().string(), "O=" + obj.string(), "ARCH=x86_64",
                     fmt::format("-j{}", jobs)};
        if (have_program("ccache")) spec.argv.push_back("CC=ccache gcc");
        spec.argv.insert(spec.argv.end(), args.begin(), args.end());
        spec.env = kbuild_env();
        output.clear();
        return run_logged(spec, log.string(), [&](std::string_view line) {
            output.append(line);
            output.push_back('\n');
        });
    }
};

// Configures `make.obj` for `c`; returns the resulting .config, parsed.
std::map<std::string, std::string> configure(const Make& make, const GateConfig& c) {
    fs::create_directories(make.obj);
    std::string out;
    int rc;
    if (c.defconfig_base) {
        rc = make.run({"defconfig"}, out);
        if (rc == 0) {
            std::ofstream(make.obj / ".config", std::ios::app) << "\n" << c.options;
            rc = make.run({"olddefconfig"}, out);
        }
    } else {
        auto fragment = make.obj / "mmguard-gate.config";
        write_file_atomically(fragment, project_config_fragments(make.ws) + "\n# --- gate " + c.name + "\n" + c.options);
        rc = make.run({"KCONFIG_ALLCONFIG=" + fragment.string(), "allnoconfig"}, out);
    }
    if (rc != 0)
        throw HarnessError(fmt::format("configuring gate {} failed (exit {}); see {}", c.name, rc, make.log.string()));
    std::string dot_config = read_file(make.obj / ".config");
    auto missing = missing_options(parse_config_fragment(c.options), dot_config);
    if (!missing.empty())
        throw HarnessError(fmt::format("gate {}: these options did not stick (a dependency or a select "
                                       "overrides them, or the name is wrong; fix qemu/gates/configs/): {}",
                                       c.name, fmt::join(missing, "; ")));
    return parse_config_fragment(dot_config);
}

struct ObjectBuild {
    bool ok = false;
    std::vector<std::string> diagnostics;
    std::vector<std::string> errors;   // a few error lines when !ok
};

ObjectBuild build_objects(const Make& make, const std::vector<std::string>& objects, bool sparse) {
    // Remove the objects first: an object make considers up to date prints
    // no warning, and the base/patched comparison needs every one compiled.
    for (const auto& o : objects) fs::remove(make.obj / o);
    std::vector<std::string> args = {"-k", "W=1"};
    if (sparse) args.push_back("C=2");
    args.insert(args.end(), objects.begin(), objects.end());
    std::string out;
    ObjectBuild b;
    b.ok = make.run(args, out) == 0;
    b.diagnostics = build_diagnostics(out);
    if (!b.ok)
        for (const auto& d : b.diagnostics)
            if (d.find(": error: ") != std::string::npos && b.errors.size() < 5) b.errors.push_back(d);
    if (!b.ok && b.errors.empty()) b.errors.push_back("make failed; see " + make.log.string());
    return b;
}

// The code of an object: its disassembly with relocations, addresses and
// the file name line left out.
std::string object_code(const fs::path& object) {
    ProcessSpec spec;
    spec.argv = {"objdump", "-d", "-r", "--no-show-raw-insn", "--no-addresses", object.string()};
    std::string text = run_capture(spec, "objdump " + object.string());
    auto at = text.find("Disassembly of section");
    return at == std::string::npos ? text : text.substr(at);
}

// The global symbols of the objects (of `objects`) that exist: an object
// make did not produce is left out.
std::map<std::string, ObjectSymbols> symbols_of(const Make& make, const std::vector<std::string>& objects) {
    std::map<std::string, ObjectSymbols> symbols;
    for (const auto& o : objects) {
        if (!fs::exists(make.obj / o)) continue;
        ProcessSpec spec;
        spec.argv = {"nm", (make.obj / o).string()};
        symbols[o] = parse_nm(run_capture(spec, "nm " + o));
    }
    return symbols;
}

// `link_allowed` null: no link check (make gates-fast, where base is built
// only when a diagnostic or an identical-code claim needs it).
GateRow config_gate(const Make& make, TreeSwitch& tree, const GateConfig& c, const std::vector<GateObject>& table,
                    const std::vector<AllowedSymbol>* link_allowed) {
    GateRow row;
    row.gate = "config";
    row.name = c.name;
    auto t0 = std::chrono::steady_clock::now();
    Stage stage("gate", fmt::format("{}: {}", c.name, c.about));
    tree.to(true);
    std::map<std::string, std::string> config;
    try {
        config = configure(make, c);
    } catch (const HarnessError& e) {
        // One configuration that cannot be made must not cost the others.
        row.ok = false;
        row.verdict_detail = "not configured";
        row.notes.push_back(e.what());
        row.seconds = seconds_since(t0);
        return row;
    }
    auto objects = objects_built(table, config);
    ObjectBuild patched = build_objects(make, objects, c.sparse);
    row.patched_diagnostics = static_cast<int>(patched.diagnostics.size());
    std::map<std::string, std::string> patched_code;
    for (const auto& o : c.identical)
        if (patched.ok && fs::exists(make.obj / o)) patched_code[o] = object_code(make.obj / o);
    LinkInput link;
    link.config = c.name;
    if (link_allowed) {
        link.patched = symbols_of(make, objects);
        link.allowed = allowed_symbols_in(*link_allowed, config);
    }
    // The link check needs what base's objects reference.
    bool need_base = link_allowed || !patched.ok || !patched.diagnostics.empty() || !c.identical.empty();
    ObjectBuild base;
    if (need_base) {
        tree.to(false);
        base = build_objects(make, objects, c.sparse);
        row.base_diagnostics = static_cast<int>(base.diagnostics.size());
        if (link_allowed) link.base = symbols_of(make, objects);
    }
    row.new_diagnostics = new_diagnostics(base.diagnostics, patched.diagnostics);
    std::string detail = fmt::format("{} objects{}", objects.size(), c.sparse ? ", W=1 + sparse" : ", W=1");
    if (!patched.ok) {
        row.ok = false;
        detail += need_base && !base.ok ? "; does not build (base neither)" : "; does not build";
        for (const auto& e : patched.errors) row.notes.push_back("error: " + e);
    }
    if (patched.ok && link_allowed) {
        LinkVerdict v = check_links(link);
        row.link_new_references = v.new_references;
        row.link_errors = v.problems;
        if (!v.ok()) row.ok = false;
        detail += "; " + link_summary(v);
        for (const auto& n : v.notes) row.notes.push_back("link: " + n);
        if (!base.ok)
            row.notes.push_back("link: base did not build every object, so what base references is known only "
                                "in part");
    } else if (link_allowed) {
        detail += "; link: not checked (does not build)";
    }
    if (!row.new_diagnostics.empty()) row.ok = false;
    for (const auto& o : c.identical) {
        if (!patched_code.count(o)) {
            row.ok = false;
            row.notes.push_back(o + ": not built in this configuration, so not compared");
            continue;
        }
        bool same = base.ok && fs::exists(make.obj / o) && object_code(make.obj / o) == patched_code[o];
        if (!same) row.ok = false;
        row.notes.push_back(fmt::format("{}: object code {} base's", o, same ? "identical to" : "DIFFERS from"));
    }
    if (!c.identical.empty())
        detail += fmt::format("; {} of {} objects identical to base", std::count_if(row.notes.begin(), row.notes.end(), [](const std::string& n) { return n.find("identical to") != std::string::npos; }), c.identical.size());
    row.verdict_detail = detail;
    row.seconds = seconds_since(t0);
    return row;
}

std::vector<GateRow> checkpatch_gates(const Workspace& ws, TreeSwitch& tree) {
    tree.to(true);
    auto allowed = read_allowed_messages(ws.project / "qemu/gates/checkpatch-allowed");
    auto run = [&](std::vector<std::string> files, bool as_files) {
        ProcessSpec spec;
        spec.argv = {"perl", "scripts/checkpatch.pl", "--strict", "--terse", "--no-color", "--show-types"};
        if (as_files) spec.argv.push_back("-f");
        spec.argv.insert(spec.argv.end(), files.begin(), files.end());
        spec.cwd = ws.src().string();
        // scripts/spdxcheck.py needs Debian's python3 (python3-ply,
        // python3-git), whatever python3 comes first on PATH.
        const char* path = std::getenv("PATH");
        spec.env = {{"PATH", std::string("/usr/bin:") + (path ? path : "")}};
        std::string out;
        Child child(spec);
        char buf[8192];
        ssize_t n;
        while ((n = ::read(child.stdout_fd(), buf, sizeof buf)) > 0) out.append(buf, n);
        child.wait();
        if (out.find("ModuleNotFoundError") != std::string::npos || out.find("Traceback") != std::string::npos)
            throw HarnessError("checkpatch's SPDX check could not run (python3-ply / python3-git missing?): "
                               "run 'make deps'\n" + out.substr(0, 600));
        return checkpatch_messages(out, allowed);
    };
    auto judge = [](const std::string& name, double secs, std::size_t nfiles,
                    const std::vector<CheckpatchMessage>& msgs) {
        GateRow row;
        row.gate = "checkpatch";
        row.name = name;
        int counts[3] = {0, 0, 0};
        int allowed_n = 0;
        for (const auto& m : msgs) {
            int i = m.level == "ERROR" ? 0 : m.level == "WARNING" ? 1 : 2;
            ++counts[i];
            if (!m.allowed_because.empty()) {
                ++allowed_n;
                row.notes.push_back(fmt::format("{}:{}: {}: {} -- stays: {}", fs::path(m.file).filename().string(),
                                                m.line, m.level, m.message, m.allowed_because));
            } else {
                row.ok = false;
                row.new_diagnostics.push_back(fmt::format("{}:{}: {}: {}", fs::path(m.file).filename().string(),
                                                          m.line, m.level, m.message));
            }
        }
        row.patched_diagnostics = static_cast<int>(msgs.size());
        row.verdict_detail = fmt::format("{} files: {} errors, {} warnings, {} checks ({} listed as staying)",
                                         nfiles, counts[0], counts[1], counts[2], allowed_n);
        row.seconds = secs;
        return row;
    };
    std::vector<GateRow> rows;
    {
        Stage stage("checkpatch", "--strict on every patch of patches/series");
        auto t0 = std::chrono::steady_clock::now();
        std::vector<std::string> files;
        for (const auto& n : read_series(ws.patches() / "series")) files.push_back((ws.patches() / n).string());
        rows.push_back(judge("patches/*.patch --strict", seconds_since(t0), files.size(), run(files, false)));
        rows.back().seconds = seconds_since(t0);
    }
    {
        Stage stage("checkpatch", "--strict -f on the KUnit sources (mm/mmguard/ of the tree)");
        auto t0 = std::chrono::steady_clock::now();
        std::vector<std::string> files;
        for (const auto& e : fs::directory_iterator(ws.src() / "mm/mmguard")) {
            auto ext = e.path().extension();
            if (ext == ".c" || ext == ".h") files.push_back("mm/mmguard/" + e.path().filename().string());
        }
        std::sort(files.begin(), files.end());
        rows.push_back(judge("KUnit sources --strict -f", 0, files.size(), run(files, true)));
        rows.back().seconds = seconds_since(t0);
    }
    return rows;
}

// With a user's tree (KSRC) the files were not made on that tree, so offsets
// there are expected: the row reports them but does not fail.
GateRow series_gate(const Workspace& ws, TreeSwitch& tree, bool users_tree) {
    Stage stage("series", "patch files = git format-patch of the stack; git am of the export = the built tree");
    auto t0 = std::chrono::steady_clock::now();
    GateRow row;
    row.gate = "series";
    row.name = "format-patch + git am";
    SeriesCheck c = check_series(ws, tree.to(true), ws.out);
    row.ok = c.ok();
    for (const auto& d : c.drift) row.new_diagnostics.push_back(d.name + ": " + d.why);
    if (c.am_tree != c.built_tree)
        row.new_diagnostics.push_back(fmt::format("git am of out/series gives tree {}, the tool builds {}",
                                                  c.am_tree, c.built_tree));
    row.verdict_detail = fmt::format("{} of {} files are format-patch output (no offset, no fuzz); git am of {} "
                                     "exported files {} the built tree",
                                     c.patches - c.drift.size(), c.patches, c.exported.size(),
                                     c.am_tree == c.built_tree ? "gives" : "does NOT give");
    if (users_tree && !row.ok) {
        row.ok = true;
        row.verdict_detail = "informational with KSRC (the files are made on Debian's 6.12 base, not this tree): " +
                             row.verdict_detail;
        row.notes.push_back("with KSRC the series row does not fail: an offset against another tree is expected");
    }
    row.seconds = seconds_since(t0);
    return row;
}

// Every .c file the stack touches must be in qemu/gates/objects.
void check_object_table(const Workspace& ws, TreeSwitch& tree, const std::vector<GateObject>& table) {
    const PreparedTree& t = tree.to(true);
    GitRepo git(ws.src() / ".git", ws.src());
    std::string touched = git.run({"diff", "--name-only", t.base_commit, t.head_commit, "--", "*.c"});
    std::istringstream in(touched);
    std::string file;
    while (std::getline(in, file)) {
        std::string object = fs::path(file).replace_extension(".o").string();
        bool listed = std::any_of(table.begin(), table.end(), [&](const GateObject& o) { return o.object == object; });
        if (!listed)
            throw HarnessError(fmt::format("the stack touches {}, which qemu/gates/objects does not list: add "
                                           "{} with the options kbuild needs for it",
                                           file, object));
    }
}

std::string markdown(const std::vector<GateRow>& rows, const std::string& header) {
    std::string md = "# mmguard gates\n\n" + header + "\n\n";
    md += "| gate | what | verdict | diagnostics base / patched / new | seconds | detail |\n";
    md += "| ---- | ---- | ------- | -------------------------------- | ------- | ------ |\n";
    for (const auto& r : rows)
        md += fmt::format("| {} | {} | {} | {} / {} / {} | {:.0f} | {} |\n", r.gate, r.name, r.ok ? "ok" : "FAIL",
                          r.base_diagnostics < 0 ? "-" : std::to_string(r.base_diagnostics), r.patched_diagnostics,
                          r.new_diagnostics.size(), r.seconds, r.verdict_detail);
    for (const auto& r : rows) {
        if (r.new_diagnostics.empty() && r.link_errors.empty() && r.notes.empty()) continue;
        md += fmt::format("\n## {} {}\n\n", r.gate, r.name);
        for (const auto& d : r.new_diagnostics) md += "- NEW: `" + d + "`\n";
        for (const auto& e : r.link_errors) md += "- LINK: " + e + "\n";
        for (const auto& n : r.notes) md += "- " + n + "\n";
    }
    return md;
}

nlohmann::json to_json(const std::vector<GateRow>& rows) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json link = nullptr;
        if (r.link_new_references >= 0)
            link = {{"new_references", r.link_new_references}, {"errors", r.link_errors}};
        j.push_back({{"gate", r.gate},
                     {"name", r.name},
                     {"ok", r.ok},
                     {"detail", r.verdict_detail},
                     {"base_diagnostics", r.base_diagnostics},
                     {"patched_diagnostics", r.patched_diagnostics},
                     {"new", r.new_diagnostics},
                     {"notes", r.notes},
                     {"link", link},
                     {"seconds", r.seconds}});
    }
    return j;
}

}  // namespace

int run_gates(const Workspace& ws, const TreeOptions& tree_options, const GatesOptions& o) {
    auto t0 = std::chrono::steady_clock::now();
    auto configs = read_gate_configs(ws.project / "qemu/gates/configs");
    auto table = read_gate_objects(ws.project / "qemu/gates/objects");
    auto link_allowed = read_allowed_symbols(ws.project / "qemu/gates/link-allowed");
    std::vector<GateConfig> chosen;
    for (const auto& c : configs)
        if ((o.configs.empty() || std::find(o.configs.begin(), o.configs.end(), c.name) != o.configs.end()) &&
            (!o.fast || c.fast))
            chosen.push_back(c);
    for (const auto& name : o.configs)
        if (std::none_of(configs.begin(), configs.end(), [&](const GateConfig& c) { return c.name == name; })) {
            std::vector<std::string> names;
            for (const auto& c : configs) names.push_back(c.name);
            throw HarnessError(fmt::format("no gate configuration '{}' in qemu/gates/configs/ (have: {})", name,
                                           fmt::join(names, ", ")));
        }
    if (!have_program("sparse") && std::any_of(chosen.begin(), chosen.end(), [](const GateConfig& c) { return c.sparse; }))
        throw HarnessError("sparse is not installed: run 'make deps'");

    TreeSwitch tree(ws, tree_options);
    check_object_table(ws, tree, table);
    std::vector<GateRow> rows;
    rows.push_back(series_gate(ws, tree, !tree_options.ksrc.empty()));
    for (auto& r : checkpatch_gates(ws, tree)) rows.push_back(std::move(r));
    int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::thread::hardware_concurrency()) + 1;
    Make make{ws, ws.work / "gates-obj", jobs, ws.out / "gates-build.log"};
    for (const auto& c : chosen) rows.push_back(config_gate(make, tree, c, table, o.fast ? nullptr : &link_allowed));
    tree.to(true);  // leave the tree as the other commands expect it

    const PreparedTree& t = tree.to(true);
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%MZ", std::gmtime(&now));
    std::string header = fmt::format("{}, linux {} + {} patches, {} configuration(s){}, {:.0f} s in all. "
                                     "Rerun with `make gates` (all) or `make gates-fast` (the part `make check` runs).",
                                     stamp, t.kernel_version, t.series_commits.size(), chosen.size(),
                                     o.fast ? " (fast subset)" : "", seconds_since(t0));
    std::string md = markdown(rows, header);
    nlohmann::json j = {{"generated", stamp}, {"kernel", t.kernel_version}, {"rows", to_json(rows)}};
    for (const auto& dir : {ws.out, ws.out.parent_path()}) {
        write_file_atomically(dir / "gates.md", md);
        write_file_atomically(dir / "gates.json", j.dump(2) + "\n");
    }
    fmt::print("\n{}\n", md);
    bool all_ok = std::all_of(rows.begin(), rows.end(), [](const GateRow& r) { return r.ok; });
    return all_ok ? 0 : 1;
}

}  // namespace mmguard
