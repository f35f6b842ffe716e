// Coverage data without a kernel: the guarded-function list, the guest's
// dump of /sys/kernel/debug/gcov (a tar archive sent over a second serial port, named
// by one console line), where each .gcda goes in the build directory, and
// per-function figures from gcov's JSON output.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmguard {

// One line of patches/guarded-functions: "FILE FUNCTION TOPIC".
struct GuardedFunction {
    std::string file;       // mm/page_alloc.c
    std::string function;   // __free_one_page
    std::string topic;      // 000-cma-placement
};

// Comments (#) and blank lines skipped; throws HarnessError naming the line
// on one that does not have exactly three words.
std::vector<GuardedFunction> parse_guarded_functions(const std::string& text, const std::string& origin);

// What the guest says after writing its dump:
// "mmguard: coverage: N files, B bytes, md5 HEX".
struct CoverageDump {
    std::size_t files = 0;
    std::uint64_t bytes = 0;
    std::string md5;
};

// The last such line of a console (printk timestamps and other text before
// "mmguard:" are allowed); nullopt if the guest never said it.
std::optional<CoverageDump> find_dump_line(std::string_view console);

// The guest's "mmguard: coverage: FAILED ..." line, if any (why it could not dump).
std::optional<std::string> find_dump_failure(std::string_view console);

std::string md5_hex(std::string_view data);

struct TarMember {
    std::string path;   // as stored ("./work/.../mm/page_alloc.gcda")
    char type = '0';    // '0' file, '5' directory, ...
    std::string data;
};

// Reads a ustar/GNU tar archive (GNU long names included) up to its end
// marker; throws HarnessError on a bad checksum or a truncated member.
std::vector<TarMember> read_tar(std::string_view archive);

// The first `dump.bytes` bytes of the image, checked against the dump's
// size and md5, read as tar; only the .gcda files are returned, and their
// number must be dump.files. Throws HarnessError saying what is wrong.
std::vector<TarMember> read_dump(std::string_view image, const CoverageDump& dump);

// Where a member of the dump goes, relative to the kernel's object
// directory: the gcov debugfs tree mirrors the absolute path of each .gcda
// ("./<obj_dir>/mm/page_alloc.gcda" -> "mm/page_alloc.gcda"). Throws
// HarnessError for a path outside obj_dir or with "..".
std::filesystem::path gcda_relative_path(const std::string& member, const std::filesystem::path& obj_dir);

// Per-line coverage of one source line.
struct LineCoverage {
    int line = 0;
    long long count = 0;
    bool unexecuted_block = false;    // some block of the line never ran
    int branches = 0;
    int branches_taken = 0;
};

struct FunctionRecord {
    std::string name;
    int start_line = 0, end_line = 0;
    int blocks = 0, blocks_executed = 0;
    long long calls = 0;
};

struct FileCoverage {
    std::string file;                   // as gcov names it ("../src/mm/page_alloc.c")
    std::vector<FunctionRecord> functions;
    std::vector<LineCoverage> lines;    // by line number, one entry per line
};

// One `gcov --json-format --stdout -b` document (possibly several JSON
// documents, one per line). Throws HarnessError on malformed input.
std::vector<FileCoverage> parse_gcov_json(std::string_view text);

// The lines [first, last] of the function definition `name` in C source
// `source` (kernel style: the name and "(" on the first line of the
// definition, the body from a "{" line to a "}" line in column 0); nullopt
// if not found.
std::optional<std::pair<int, int>> function_extent(const std::string& source, const std::string& name);

struct FunctionSummary {
    GuardedFunction guarded;
    bool found = false;                 // the file was profiled and the function located
    std::string note;                   // why not found, or "inlined before instrumentation"
    int first_line = 0, last_line = 0;
    int lines = 0, lines_reached = 0;
    int branches = 0, branches_taken = 0;
    // Branches on lines that only check (WARN*, VM_BUG_ON*, BUG_ON...):
    // their failing side is not expected to run.
    int check_branches = 0, check_branches_taken = 0;
    std::optional<int> blocks, blocks_executed;  // gcov's own function record, if it has one
    long long calls = 0;
    std::vector<std::pair<int, int>> unreached;  // line ranges never executed
    std::vector<int> partial;                    // executed lines with a block that never ran
    std::vector<int> untaken_branch_lines;       // executed lines with a branch never taken
};

// Figures of `g` from the coverage of its file; `source` is the file's text
// (to find the function's extent and the check lines).
FunctionSummary summarize_function(const GuardedFunction& g, const std::vector<FileCoverage>& files,
                                   const std::string& source);

struct CoverageTotals {
    int functions = 0, found = 0;
    int lines = 0, lines_reached = 0, branches = 0, branches_taken = 0;
    int check_branches = 0, check_branches_taken = 0;
};
CoverageTotals totals_of(const std::vector<FunctionSummary>& s);

std::string percent(int part, int whole);

// "2345-2350, 2360"
std::string format_ranges(const std::vector<std::pair<int, int>>& ranges);

nlohmann::json coverage_json(const std::vector<FunctionSummary>& s);

// The per-function table (Markdown), the totals, then each function's
// unreached lines with their source text.
std::string summary_markdown(const std::vector<FunctionSummary>& s,
                             const std::map<std::string, std::string>& sources);

}  // namespace mmguard
