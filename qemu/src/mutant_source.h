// Where a guarded function's body is in a C file, by kernel style: the
// declarator starts in column 0 (`static void foo(` or `foo(` under a line
// with the return type) and the body's braces are alone in column 0.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace mmguard {

// One line of patches/guarded-functions: "FILE FUNCTION TOPIC".
struct GuardedFunction {
    std::string file;       // relative to the kernel tree, e.g. mm/page_alloc.c
    std::string function;
    std::string topic;
};

// Parses the list ('#' comments and blank lines skipped). Throws
// HarnessError naming the line on a line without FILE and FUNCTION.
std::vector<GuardedFunction> parse_guarded_functions(std::string_view text);

// The lines of a text, without their '\n' (a last line without one counts).
std::vector<std::string> split_lines(std::string_view text);

struct FunctionBody {
    std::size_t open = 0;    // index (0-based) of the "{" line in column 0
    std::size_t close = 0;   // index of the matching "}" line in column 0
    std::size_t header = 0;  // index of the line naming the function
};

// Finds the definition of `name` in `lines`; throws HarnessError if there is
// none (a prototype or a call is not a definition) or if it is ambiguous.
FunctionBody locate_function(const std::vector<std::string>& lines, std::string_view name);

// Lines of a body that are the stack's own checking code, or not code at
// all, and must not be mutated: comments, preprocessor lines, WARN/VM_WARN/
// VM_BUG/BUG_ON/pr_warn/dump_page lines, and every line of a block opened
// under `#ifdef CONFIG_DEBUG_VM` or by a line that is itself a check (an
// `if (VM_WARN_ON(...)) {` or `if (IS_ENABLED(CONFIG_DEBUG_VM)...) {` block).
// Returns one flag per line of `lines` (true: skip), for [open, close].
std::vector<bool> skipped_lines(const std::vector<std::string>& lines, const FunctionBody& body);

// True if the line's text names a check macro (WARN, VM_BUG, pr_warn...).
bool is_check_line(std::string_view line);

}  // namespace mmguard
