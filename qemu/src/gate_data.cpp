#include "gate_data.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> words_of(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    std::string w;
    while (in >> w) words.push_back(w);
    return words;
}

std::vector<std::string> lines_of(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw HarnessError(fmt::format("cannot read {}", file.string()));
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::vector<GateConfig> read_gate_configs(const fs::path& dir) {
    std::vector<fs::path> files;
    if (fs::is_directory(dir))
        for (const auto& e : fs::directory_iterator(dir))
            if (e.path().extension() == ".config") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw HarnessError(fmt::format("no gate configurations (*.config) in {}", dir.string()));
    std::vector<GateConfig> configs;
    for (const auto& f : files) {
        GateConfig c;
        std::string stem = f.stem().string();
        // "03-smp-off" -> "smp-off": the number only orders the matrix.
        auto dash = stem.find('-');
        c.name = dash != std::string::npos && std::all_of(stem.begin(), stem.begin() + dash, ::isdigit)
                     ? stem.substr(dash + 1)
                     : stem;
        for (const auto& line : lines_of(f)) {
            if (starts_with(line, "CONFIG_") || (starts_with(line, "# CONFIG_") && line.find(" is not set") != std::string::npos)) {
                c.options += line + "\n";
            } else if (starts_with(line, "# base:")) {
                auto w = words_of(line.substr(7));
                if (w.size() != 1 || (w[0] != "defconfig" && w[0] != "project"))
                    throw HarnessError(fmt::format("{}: '# base:' takes defconfig or project", f.string()));
                c.defconfig_base = w[0] == "defconfig";
            } else if (starts_with(line, "# gate:")) {
                for (const auto& w : words_of(line.substr(7))) {
                    if (w == "fast") c.fast = true;
                    else if (w == "sparse") c.sparse = true;
                    else throw HarnessError(fmt::format("{}: unknown gate word '{}'", f.string(), w));
                }
            } else if (starts_with(line, "# identical:")) {
                for (const auto& w : words_of(line.substr(12))) c.identical.push_back(w);
            } else if (starts_with(line, "# ") && c.about.empty()) {
                c.about = line.substr(2);
            } else if (!line.empty() && line[0] != '#') {
                throw HarnessError(fmt::format("{}: not a Kconfig assignment: '{}'", f.string(), line));
            }
        }
        configs.push_back(std::move(c));
    }
    return configs;
}

std::vector<GateObject> read_gate_objects(const fs::path& file) {
    std::vector<GateObject> table;
    for (const auto& line : lines_of(file)) {
        auto w = words_of(line.substr(0, line.find('#')));
        if (w.empty()) continue;
        GateObject o;
        o.object = w[0];
        if (fs::path(o.object).extension() != ".o")
            throw HarnessError(fmt::format("{}: '{}' is not an object (.o)", file.string(), o.object));
        for (std::size_t i = 1; i < w.size(); ++i) {
            if (!starts_with(w[i], "CONFIG_"))
                throw HarnessError(fmt::format("{}: '{}' is not a CONFIG_ option", file.string(), w[i]));
            o.needs.push_back(w[i]);
        }
        table.push_back(std::move(o));
    }
    return table;
}

namespace {
bool all_y(const std::vector<std::string>& options, const std::map<std::string, std::string>& config) {
    return std::all_of(options.begin(), options.end(), [&](const std::string& n) {
        auto it = config.find(n);
        return it != config.end() && it->second == "y";
    });
}
}  // namespace

std::vector<std::string> objects_built(const std::vector<GateObject>& table,
                                       const std::map<std::string, std::string>& config) {
    std::vector<std::string> built;
    for (const auto& o : table)
        if (all_y(o.needs, config)) built.push_back(o.object);
    return built;
}

std::vector<AllowedMessage> read_allowed_messages(const fs::path& file) {
    std::vector<AllowedMessage> allowed;
    if (!fs::exists(file)) return allowed;
    for (const auto& line : lines_of(file)) {
        if (line.empty() || line[0] == '#') continue;
        auto t1 = line.find('\t');
        auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos || t2 + 1 >= line.size())
            throw HarnessError(fmt::format("{}: want FILE-GLOB<TAB>MESSAGE<TAB>why: '{}'", file.string(), line));
        allowed.push_back({line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)});
    }
    return allowed;
}

std::vector<AllowedSymbol> read_allowed_symbols(const fs::path& file) {
    std::vector<AllowedSymbol> list;
    if (!fs::exists(file)) return list;
    for (const auto& line : lines_of(file)) {
        if (line.empty() || line[0] == '#') continue;
        auto colon = line.find(':');
        auto w = words_of(line.substr(0, colon));
        std::string why = colon == std::string::npos ? "" : line.substr(colon + 1);
        why.erase(0, why.find_first_not_of(" \t"));
        if (w.empty() || why.empty())
            throw HarnessError(fmt::format("{}: want 'SYMBOL [CONFIG_X...]: why': '{}'", file.string(), line));
        AllowedSymbol a;
        a.symbol = w[0];
        for (std::size_t i = 1; i < w.size(); ++i) {
            if (!starts_with(w[i], "CONFIG_"))
                throw HarnessError(fmt::format("{}: '{}' is not a CONFIG_ option", file.string(), w[i]));
            a.needs.push_back(w[i]);
        }
        a.why = why;
        list.push_back(std::move(a));
    }
    return list;
}

std::map<std::string, std::string> allowed_symbols_in(const std::vector<AllowedSymbol>& list,
                                                      const std::map<std::string, std::string>& config) {
    std::map<std::string, std::string> allowed;
    for (const auto& a : list)
        if (all_y(a.needs, config)) allowed.emplace(a.symbol, a.why);
    return allowed;
}

}  // namespace mmguard
