// The mutation operators: each looks at one function body, line by line,
// and proposes mutants as line replacements (the number of lines never
// changes, so line numbers in WARN tables stay where they were and a
// mutant's object differs only by what it changed).
#pragma once

#include <string>
#include <vector>

#include "mutant_source.h"

namespace mmguard {

struct LineEdit {
    std::size_t line = 0;   // 0-based index in the file
    std::string text;       // the new line
};

struct Mutant {
    std::string id;          // file:function:operator:line:variant (line 1-based)
    std::string file;
    std::string function;
    std::string op;          // one of operator_names()
    std::size_t line = 0;    // 1-based, the first edited line
    int variant = 0;         // which of the operator's mutants on that line
    std::string description; // "x += n -> (deleted)"
    std::vector<LineEdit> edits;
};

// delete_state, negate_cond, relax_cmp, off_by_one, swap_migratetype, drop_lock
const std::vector<std::string>& operator_names();

// Every mutant of `function` (located in `lines`, the file's text) that the
// operators make, in line order; lines skipped_lines() flags are left alone.
std::vector<Mutant> generate_mutants(const std::string& file, const std::vector<std::string>& lines,
                                     const std::string& function);

// Single-line operators, exposed for the unit tests: the replacement texts
// of `line` (empty: the operator does not apply).
std::vector<std::string> mutate_delete_state(const std::string& line);
std::vector<std::string> mutate_negate_cond(const std::string& line);
std::vector<std::string> mutate_relax_cmp(const std::string& line);
std::vector<std::string> mutate_off_by_one(const std::string& line);
std::vector<std::string> mutate_swap_migratetype(const std::string& line);

}  // namespace mmguard
