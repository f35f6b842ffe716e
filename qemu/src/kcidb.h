// results.json -> a KCIDB I/O document (schema v5, see
// Documentation/kcidb-v5.schema.json), written as kcidb.json beside it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workspace.h"

namespace mmguard {

// What results.json does not say about the checkout and the build.
struct KcidbFacts {
    std::string run_id;          // out/<run> folder name: unique per run
    std::string tree_name;       // where the base source came from
    std::string base_release;    // e.g. "6.12.118" (the tarball has no git commit)
    std::string patchset_hash;   // "" when no patch was applied (--base)
    std::vector<std::string> patch_files;  // file names, series order
    std::string config_name;
    std::string compiler;
    std::string start_time;      // RFC 3339, UTC
};

// KCIDB's patchset_hash: sha256 over the newline-terminated hex sha256 of
// each patch, in order; "" for no patches.
std::string kcidb_patchset_hash(const std::vector<std::string>& patch_contents);

// Reads the facts from the project and build directories. `applied`: were
// the project patches applied (false for --base); `mutations`: names of
// patches/mutations/NAME.patch applied on top.
KcidbFacts collect_kcidb_facts(const Workspace& ws, bool applied, const std::vector<std::string>& mutations);

// Pure: the results.json document and the facts -> the KCIDB document.
nlohmann::json to_kcidb(const nlohmann::json& results, const KcidbFacts& facts);

// Writes ws.out/kcidb.json from the run's results.json document.
void write_kcidb_json(const Workspace& ws, const nlohmann::json& results, bool applied,
                      const std::vector<std::string>& mutations);

}  // namespace mmguard
