#include "link_check.h"

#include <cctype>
#include <sstream>

#include <fmt/format.h>

namespace mmguard {
namespace {

// The first object of `objects` whose set (picked by `which`) holds `symbol`.
template <typename Which>
std::string first_with(const std::map<std::string, ObjectSymbols>& objects, const std::string& symbol, Which which,
                       const std::string& other_than = "") {
    for (const auto& [name, syms] : objects)
        if (name != other_than && which(syms).count(symbol)) return name;
    return "";
}

const std::set<std::string>& undefined_of(const ObjectSymbols& s) { return s.undefined; }
const std::set<std::string>& defined_of(const ObjectSymbols& s) { return s.defined; }

}  // namespace

ObjectSymbols parse_nm(const std::string& output) {
    ObjectSymbols s;
    std::istringstream in(output);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::vector<std::string> w;
        std::string word;
        while (words >> word) w.push_back(word);
        // "ADDRESS TYPE NAME", or "TYPE NAME" for an undefined symbol.
        if (w.size() < 2 || w.size() > 3) continue;
        const std::string& type = w[w.size() - 2];
        const std::string& name = w.back();
        if (type.size() != 1) continue;
        char t = type[0];
        if (t == 'U') {
            s.undefined.insert(name);
        } else if (t == 'W' || t == 'V') {
            s.defined.insert(name);
        } else if (std::isupper(static_cast<unsigned char>(t)) || t == 'u') {
            // T D B R A C G S I N... and u (a GNU unique global).
            s.defined.insert(name);
            s.strong.insert(name);
        }
    }
    return s;
}

LinkVerdict check_links(const LinkInput& in) {
    LinkVerdict v;
    // What base's objects take from outside them: referenced, defined by none.
    std::set<std::string> base_defined, outside;
    for (const auto& [name, syms] : in.base) base_defined.insert(syms.defined.begin(), syms.defined.end());
    for (const auto& [name, syms] : in.base)
        for (const auto& s : syms.undefined)
            if (!base_defined.count(s)) outside.insert(s);

    for (const auto& [object, syms] : in.patched) {
        auto base_it = in.base.find(object);
        for (const auto& s : syms.undefined) {
            bool is_new = base_it == in.base.end() || !base_it->second.undefined.count(s);
            std::string where;
            if (auto by = first_with(in.patched, s, defined_of, object); !by.empty()) {
                where = "defined by " + by;
            } else if (outside.count(s)) {
                auto ref = first_with(in.base, s, undefined_of);
                where = fmt::format("from an object the stack does not touch (base's {} references it too)", ref);
            } else if (auto a = in.allowed.find(s); a != in.allowed.end()) {
                where = "listed in qemu/gates/link-allowed: " + a->second;
            } else {
                auto base_by = first_with(in.base, s, defined_of);
                v.problems.push_back(
                    base_by.empty()
                        ? fmt::format("{} references {}, defined by no object built with {}", object, s, in.config)
                        : fmt::format("{} references {}, which base's {} defines and no patched object built "
                                      "with {} does",
                                      object, s, base_by, in.config));
                if (is_new) ++v.new_references;
                continue;
            }
            if (is_new) {
                ++v.new_references;
                v.notes.push_back(fmt::format("{} newly references {}: {}", object, s, where));
            }
        }
    }

    // Two strong definitions of one symbol are a link error as well.
    std::map<std::string, std::vector<std::string>> definers, base_definers;
    for (const auto& [object, syms] : in.patched)
        for (const auto& s : syms.strong) definers[s].push_back(object);
    for (const auto& [object, syms] : in.base)
        for (const auto& s : syms.strong) base_definers[s].push_back(object);
    for (const auto& [s, objects] : definers)
        if (objects.size() > 1 && base_definers[s].size() < objects.size())
            v.problems.push_back(fmt::format("{} is defined by both {} and {} in {}: a multiple definition", s,
                                             objects[0], objects[1], in.config));
    return v;
}

std::string link_summary(const LinkVerdict& v) {
    if (!v.ok()) return fmt::format("link: {} error{}", v.problems.size(), v.problems.size() == 1 ? "" : "s");
    if (v.new_references == 0) return "link: no new references";
    return fmt::format("link: {} new reference{}, all resolved", v.new_references, v.new_references == 1 ? "" : "s");
}

}  // namespace mmguard
