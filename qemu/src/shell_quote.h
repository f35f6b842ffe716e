// Quoting of words that reach a shell in the guest (the plan file that
// /init sources, and the trinity command line built from it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mmguard {

// One POSIX shell word meaning exactly `text`: '...' with every ' as '\''.
std::string shell_quote(std::string_view text);

// Splits a user's argument string at blanks (space, tab, newline); no
// quoting is interpreted, so nothing in it can run.
std::vector<std::string> split_words(std::string_view text);

// The words, each quoted, joined by spaces: a string that a shell parsing
// it (e.g. in `sh -c "prog $ARGS"`) turns back into exactly these words.
std::string shell_quote_words(const std::vector<std::string>& words);

}  // namespace mmguard
