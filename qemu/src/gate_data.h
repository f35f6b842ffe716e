// The data `mmguard gates` runs from (qemu/gates/): the configuration
// matrix, the objects the stack touches with the options each needs, and the
// checkpatch messages allowed to stay.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mmguard {

// One row of the configuration matrix: qemu/gates/configs/NAME.config.
// Comment lines "# base: defconfig", "# gate: fast sparse" and
// "# identical: OBJ..." say how it is built and judged; the other lines are
// Kconfig assignments that must hold in the resulting .config.
struct GateConfig {
    std::string name;                    // file name without ".config"
    std::string about;                   // the first comment line
    bool defconfig_base = false;         // x86_64 defconfig instead of the project's fragments
    bool fast = false;                   // part of `make check`
    bool sparse = false;                 // run sparse (C=2) on the objects
    std::vector<std::string> identical;  // objects whose code must equal base's
    std::string options;                 // the assignments, one per line
};

std::vector<GateConfig> read_gate_configs(const std::filesystem::path& dir);

struct GateObject {
    std::string object;                 // "mm/page_alloc.o"
    std::vector<std::string> needs;     // CONFIG_ options that must be y
};

std::vector<GateObject> read_gate_objects(const std::filesystem::path& file);

// The objects of `table` that a .config (parsed) builds.
std::vector<std::string> objects_built(const std::vector<GateObject>& table,
                                       const std::map<std::string, std::string>& config);

// A checkpatch message allowed to stay: "FILE-GLOB<TAB>SUBSTRING<TAB>why".
struct AllowedMessage {
    std::string file_glob;
    std::string message;
    std::string why;
};

std::vector<AllowedMessage> read_allowed_messages(const std::filesystem::path& file);

// A symbol the link check may take from an object the stack does not touch
// though no object of the configuration references it on base:
// "SYMBOL [CONFIG_X...]: why" in qemu/gates/link-allowed. It counts only in
// a configuration where every CONFIG_ option listed is y (the options that
// build the object defining it).
struct AllowedSymbol {
    std::string symbol;
    std::vector<std::string> needs;
    std::string why;
};

std::vector<AllowedSymbol> read_allowed_symbols(const std::filesystem::path& file);

// The entries that hold in a .config (parsed): symbol -> why.
std::map<std::string, std::string> allowed_symbols_in(const std::vector<AllowedSymbol>& list,
                                                      const std::map<std::string, std::string>& config);

}  // namespace mmguard
