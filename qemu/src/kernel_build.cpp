#include "kernel_build.h"

#include <unistd.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <re2/re2.h>

#include "process.h"
#include "progress.h"

namespace mmguard {
namespace {

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// The fragments, in a fixed order: kunit/configs/*.config sorted by name.
std::string merged_fragments(const Workspace& ws, const std::vector<fs::path>& extra = {}) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(ws.kunit() / "configs"))
        if (e.path().extension() == ".config") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw HarnessError("no kernel config fragments in kunit/configs/");
    std::string merged;
    for (const auto& f : files) merged += "# --- " + f.filename().string() + "\n" + slurp(f) + "\n";
    for (const auto& f : extra) {
        if (!fs::is_regular_file(f)) throw HarnessError(fmt::format("config fragment {} not found", f.string()));
        merged += "# --- " + f.string() + "\n" + slurp(f) + "\n";
    }
    return merged;
}

std::vector<std::pair<std::string, std::string>> make_env() {
    return {
        // Same objects from any checkout path: ccache hashes relative paths.
        {"CCACHE_BASEDIR", "/"},
        {"CCACHE_NOHASHDIR", "1"},
        // Reproducible version strings, so a rebuild with no change links nothing.
        {"KBUILD_BUILD_TIMESTAMP", "Thu Jan  1 00:00:00 UTC 2026"},
        {"KBUILD_BUILD_USER", "mmguard"},
        {"KBUILD_BUILD_HOST", "mmguard"},
        {"KBUILD_BUILD_VERSION", "1"},
        // Set but empty: no "+" suffix from scripts/setlocalversion.
        {"LOCALVERSION", ""},
    };
}

std::vector<std::string> make_argv(const Workspace& ws, int jobs) {
    std::vector<std::string> argv = {"make", "-C", ws.src().string(), "O=" + ws.obj().string(),
                                     "ARCH=x86_64", fmt::format("-j{}", jobs)};
    if (have_program("ccache")) argv.push_back("CC=ccache gcc");
    return argv;
}

bool configure(const Workspace& ws, const BuildOptions& o) {
    std::string merged = merged_fragments(ws, o.extra_fragments);
    std::string id = merged + "\n# tree: " + slurp(ws.kunit() / "Kconfig") +
                     slurp(ws.src() / ".git/mmguard-base-id");
    auto id_file = ws.obj() / ".mmguard-config-id";
    auto dot_config = ws.obj() / ".config";
    if (fs::exists(dot_config) && fs::exists(id_file) && slurp(id_file) == id) {
        // A make run by hand in the build directory (another source tree,
        // a menuconfig) can rewrite .config behind the id: check it too.
        auto lost = missing_options(parse_config_fragment(merged), slurp(dot_config));
        if (lost.empty()) return false;
        fmt::print("    {}/.config lost {} requested option(s) ({}...) since it was made: reconfiguring\n",
                   ws.obj().string(), lost.size(), lost.front());
    }

    // An option no Kconfig declares would be dropped silently (or, "is not
    // set", pass unnoticed): refuse it before anything is built.
    std::set<std::string> symbols = kconfig_symbols(ws.src());
    symbols.merge(kconfig_symbols(ws.kunit() / "Kconfig"));
    auto unknown = unknown_options(parse_config_fragment(merged), symbols);
    if (!unknown.empty()) {
        std::string list;
        for (const auto& u : unknown) list += "  " + u + "\n";
        throw HarnessError(fmt::format(
            "kunit/configs/ names options this kernel tree does not have (no Kconfig declares them):\n{}",
            list));
    }

    Stage stage("configure", o.extra_fragments.empty() ? "allnoconfig + kunit/configs/*.config"
                                                        : "allnoconfig + kunit/configs/*.config + extra fragments");
    fs::create_directories(ws.obj());
    auto fragment = ws.obj() / "mmguard.config";
    std::ofstream(fragment) << merged;
    ProcessSpec spec;
    spec.argv = make_argv(ws, 1);
    spec.argv.push_back("KCONFIG_ALLCONFIG=" + fragment.string());
    spec.argv.push_back("allnoconfig");
    spec.env = make_env();
    if (run_logged(spec, o.log.string()) != 0)
        throw HarnessError(fmt::format("kernel configuration failed; see {}", o.log.string()));
    auto missing = missing_options(parse_config_fragment(merged), slurp(dot_config));
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += "  " + m + "\n";
        throw HarnessError(fmt::format(
            "these requested options did not stick (a dependency is missing or the "
            "name is wrong; fix kunit/configs/):\n{}",
            list));
    }
    std::ofstream(id_file) << id;
    return true;
}

}  // namespace

std::map<std::string, std::string> parse_config_fragment(const std::string& text) {
    static const RE2 set_re(R"(^(CONFIG_[A-Za-z0-9_]+)=(.*)$)");
    static const RE2 unset_re(R"(^# (CONFIG_[A-Za-z0-9_]+) is not set$)");
    std::map<std::string, std::string> wanted;
    std::istringstream lines(text);
    std::string line, name, value;
    while (std::getline(lines, line)) {
        if (RE2::FullMatch(line, set_re, &name, &value)) wanted[name] = value;
        else if (RE2::FullMatch(line, unset_re, &name)) wanted[name] = "n";
    }
    return wanted;
}

std::vector<std::string> missing_options(const std::map<std::string, std::string>& wanted,
                                         const std::string& dot_config) {
    auto have = parse_config_fragment(dot_config);
    std::vector<std::string> missing;
    for (const auto& [name, value] : wanted) {
        auto it = have.find(name);
        std::string got = it == have.end() ? "n" : it->second;
        if (got != value) missing.push_back(fmt::format("{}: wanted {}, got {}", name, value, got));
    }
    return missing;
}

std::set<std::string> kconfig_symbols(const fs::path& dir) {
    static const RE2 config_re(R"(^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$)");
    std::set<std::string> symbols;
    auto scan = [&](const fs::path& file) {
        std::istringstream lines(slurp(file));
        std::string line, name;
        while (std::getline(lines, line))
            if (RE2::FullMatch(line, config_re, &name)) symbols.insert("CONFIG_" + name);
    };
    std::error_code ec;
    if (fs::is_regular_file(dir, ec)) {
        scan(dir);
        return symbols;
    }
    if (!fs::is_directory(dir, ec)) return symbols;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const auto& p = it->path();
        if (it->is_directory(ec) && p.filename().string().front() == '.') {
            it.disable_recursion_pending();   // .git and friends
            continue;
        }
        if (p.filename().string().rfind("Kconfig", 0) == 0 && it->is_regular_file(ec)) scan(p);
    }
    return symbols;
}

std::vector<std::string> unknown_options(const std::map<std::string, std::string>& wanted,
                                         const std::set<std::string>& symbols) {
    std::vector<std::string> unknown;
    for (const auto& [name, value] : wanted)
        if (!symbols.count(name)) unknown.push_back(name);
    return unknown;
}

std::string project_config_fragments(const Workspace& ws) { return merged_fragments(ws); }

std::vector<std::pair<std::string, std::string>> kbuild_env() { return make_env(); }

BuildResult build_kernel(const Workspace& ws, const BuildOptions& o) {
    BuildResult result;
    int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::thread::hardware_concurrency()) + 1;
    result.reconfigured = configure(ws, o);

    Stage stage("build", fmt::format("bzImage, -j{}, log {}", jobs, o.log.string()));
    ProcessSpec spec;
    spec.argv = make_argv(ws, jobs);
    spec.argv.push_back("bzImage");
    spec.env = make_env();
    StatusLine status("compiling");
    static const RE2 cc_re(R"(^\s+CC\s+(\S+))");
    std::deque<std::string> errors;
    std::string object;
    int code = run_logged(spec, o.log.string(), [&](std::string_view line) {
        if (RE2::PartialMatch(line, cc_re, &object)) {
            ++result.compiled;
            status.update(fmt::format("{} objects, {}", result.compiled, object));
        } else if (line.find("error") != std::string_view::npos || line.find("Error") != std::string_view::npos) {
            errors.emplace_back(line);
            if (errors.size() > 20) errors.pop_front();
        }
    });
    status.update(fmt::format("{} objects compiled", result.compiled), true);
    result.seconds = stage.elapsed();
    if (code != 0) {
        std::string tail;
        for (const auto& e : errors) tail += "  " + e + "\n";
        throw HarnessError(fmt::format("kernel build failed (exit {}); full log: {}\n{}", code,
                                       o.log.string(), tail));
    }
    result.bzimage = ws.bzimage();
    return result;
}

}  // namespace mmguard
