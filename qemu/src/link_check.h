// The link check of `mmguard gates`, without vmlinux: the symbols the
// patched objects of one configuration reference must be defined somewhere
// that configuration links. The pure part: symbol tables (from nm) in,
// verdict and diagnostics out; gates.cpp runs nm and builds the objects.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace mmguard {

// The global symbols of one object file.
struct ObjectSymbols {
    std::set<std::string> undefined;  // "U": the linker must find these
    std::set<std::string> defined;    // global definitions, weak ones included
    std::set<std::string> strong;     // global definitions that are not weak
};

// Parses the output of plain `nm OBJECT` (binutils' BSD format). Weak
// undefined symbols (w, v) are no references: they link as 0 when nothing
// defines them. Local symbols (lower-case letters) are left out.
ObjectSymbols parse_nm(const std::string& output);

struct LinkInput {
    std::string config;                             // the configuration's name, for the messages
    std::map<std::string, ObjectSymbols> base;      // object -> symbols; missing: not built on base
    std::map<std::string, ObjectSymbols> patched;   // the patched objects built in this configuration
    std::map<std::string, std::string> allowed;     // symbol -> why (qemu/gates/link-allowed, this configuration's)
};

struct LinkVerdict {
    int new_references = 0;              // (object, symbol) pairs that base's same object does not reference
    std::vector<std::string> problems;   // a link error each, naming object and symbol
    std::vector<std::string> notes;      // each new reference and where it resolves
    bool ok() const { return problems.empty(); }
};

// Every symbol a patched object references must be defined by a patched
// object of the configuration (globally), or come from outside the objects
// the stack touches as it does on base (base's objects reference it and
// none of them defines it: an object the stack does not change defines it
// in base's link), or be listed in `allowed`. A strong definition in two
// patched objects is a problem too.
LinkVerdict check_links(const LinkInput& in);

// One piece of the row's detail column: "link: 2 new references, all
// resolved" or "link: 1 error".
std::string link_summary(const LinkVerdict& v);

}  // namespace mmguard
