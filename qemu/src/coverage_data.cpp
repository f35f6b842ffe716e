#include "coverage_data.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <re2/re2.h>

#include "process.h"

namespace mmguard {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A gcov file name ("../src/mm/page_alloc.c") is the guarded file
// ("mm/page_alloc.c") if it is that path or ends with "/" + it.
bool same_file(const std::string& gcov_name, const std::string& file) {
    return gcov_name == file || ends_with(gcov_name, "/" + file);
}

// The line only checks: its failing side is a report, not a path.
bool is_check_line(const std::string& line) {
    static const RE2 check_re(
        R"(\b(WARN|WARN_ON|WARN_ON_ONCE|WARN_ONCE|WARN_TAINT|BUG|BUG_ON|VM_BUG_ON\w*|VM_WARN\w*|VM_BUG_ON_\w+)\s*\()");
    return RE2::PartialMatch(line, check_re);
}

std::uint64_t parse_octal(std::string_view field, const std::string& what) {
    std::uint64_t v = 0;
    bool any = false;
    for (char c : field) {
        if (c == '\0' || c == ' ') {
            if (any) break;
            continue;
        }
        if (c < '0' || c > '7') throw HarnessError(fmt::format("coverage dump: bad {} field in a tar header", what));
        v = v * 8 + static_cast<std::uint64_t>(c - '0');
        any = true;
    }
    return v;
}

std::string c_string(std::string_view field) {
    auto n = field.find('\0');
    return std::string(field.substr(0, n));
}

}  // namespace

std::vector<GuardedFunction> parse_guarded_functions(const std::string& text, const std::string& origin) {
    std::vector<GuardedFunction> out;
    int n = 0;
    for (const auto& raw : split_lines(text)) {
        ++n;
        std::string line = trim(raw.substr(0, raw.find('#')));
        if (line.empty()) continue;
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string x; words >> x;) w.push_back(x);
        if (w.size() != 3)
            throw HarnessError(fmt::format("{}:{}: expected \"FILE FUNCTION TOPIC\", got \"{}\"", origin, n, line));
        out.push_back({w[0], w[1], w[2]});
    }
    if (out.empty()) throw HarnessError(fmt::format("{}: no guarded functions listed", origin));
    return out;
}

std::optional<CoverageDump> find_dump_line(std::string_view console) {
    static const RE2 re(R"(mmguard: coverage: (\d+) files, (\d+) bytes, md5 ([0-9a-f]{32}))");
    re2::StringPiece in(console.data(), console.size());
    std::optional<CoverageDump> last;
    std::string files, bytes, md5;
    while (RE2::FindAndConsume(&in, re, &files, &bytes, &md5)) {
        CoverageDump d;
        d.files = std::stoull(files);
        d.bytes = std::stoull(bytes);
        d.md5 = md5;
        last = d;
    }
    return last;
}

std::optional<std::string> find_dump_failure(std::string_view console) {
    static const RE2 re(R"(mmguard: coverage: FAILED ([^\r\n]*))");
    re2::StringPiece in(console.data(), console.size());
    std::string why;
    if (RE2::FindAndConsume(&in, re, &why)) return why;
    return std::nullopt;
}

std::string md5_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr))
        throw HarnessError("MD5 digest failed (OpenSSL)");
    std::string hex;
    for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

std::vector<TarMember> read_tar(std::string_view a) {
    std::vector<TarMember> out;
    std::size_t pos = 0;
    std::string long_name;
    while (true) {
        if (pos + 512 > a.size())
            throw HarnessError(fmt::format("coverage dump: tar archive truncated at byte {} (no end marker)", pos));
        std::string_view h = a.substr(pos, 512);
        if (std::all_of(h.begin(), h.end(), [](char c) { return c == '\0'; })) break;  // end of archive
        unsigned sum = 0;
        for (std::size_t i = 0; i < 512; ++i)
            sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
        if (parse_octal(h.substr(148, 8), "checksum") != sum)
            throw HarnessError(fmt::format("coverage dump: bad tar header checksum at byte {}", pos));
        std::uint64_t size = parse_octal(h.substr(124, 12), "size");
        char type = h[156] == '\0' ? '0' : h[156];
        std::string name = c_string(h.substr(0, 100));
        if (h.substr(257, 5) == "ustar") {
            std::string prefix = c_string(h.substr(345, 155));
            if (!prefix.empty()) name = prefix + "/" + name;
        }
        pos += 512;
        if (pos + size > a.size())
            throw HarnessError(fmt::format("coverage dump: member {} truncated ({} bytes announced)", name, size));
        std::string data(a.substr(pos, size));
        pos += (size + 511) / 512 * 512;
        if (type == 'L') {  // GNU long name of the next member
            long_name = c_string(data);
            continue;
        }
        if (!long_name.empty()) name = std::move(long_name), long_name.clear();
        out.push_back({name, type, std::move(data)});
    }
    return out;
}

std::vector<TarMember> read_dump(std::string_view image, const CoverageDump& dump) {
    if (dump.bytes > image.size())
        throw HarnessError(fmt::format("coverage dump: the guest wrote {} bytes, the host received only {}",
                                       dump.bytes, image.size()));
    std::string_view archive = image.substr(0, dump.bytes);
    std::string md5 = md5_hex(archive);
    if (md5 != dump.md5)
        throw HarnessError(fmt::format("coverage dump: md5 of the {} bytes received is {}, the guest said {}",
                                       dump.bytes, md5, dump.md5));
    std::vector<TarMember> gcda;
    for (auto& m : read_tar(archive))
        if (m.type == '0' && ends_with(m.path, ".gcda")) gcda.push_back(std::move(m));
    if (gcda.size() != dump.files)
        throw HarnessError(fmt::format("coverage dump: {} .gcda files in the archive, the guest said {}",
                                       gcda.size(), dump.files));
    return gcda;
}

fs::path gcda_relative_path(const std::string& member, const fs::path& obj_dir) {
    std::string p = member;
    while (p.rfind("./", 0) == 0) p.erase(0, 2);
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    std::string obj = obj_dir.lexically_normal().relative_path().string();
    while (!obj.empty() && obj.back() == '/') obj.pop_back();
    if (obj.empty() || p.rfind(obj + "/", 0) != 0)
        throw HarnessError(fmt::format(
            "coverage dump: {} is not under the build directory {} (was the kernel built elsewhere?)", member,
            obj_dir.string()));
    fs::path rel = fs::path(p.substr(obj.size() + 1)).lexically_normal();
    for (const auto& part : rel)
        if (part == "..") throw HarnessError(fmt::format("coverage dump: {} leaves the build directory", member));
    if (rel.empty() || rel.extension() != ".gcda")
        throw HarnessError(fmt::format("coverage dump: {} is not a .gcda file", member));
    return rel;
}

std::vector<FileCoverage> parse_gcov_json(std::string_view text) {
    std::vector<FileCoverage> out;
    std::istringstream in{std::string(text)};
    std::string doc;
    int n = 0;
    while (std::getline(in, doc)) {
        ++n;
        if (trim(doc).empty()) continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(doc);
        } catch (const nlohmann::json::exception& e) {
            throw HarnessError(fmt::format("gcov JSON (document {}): {}", n, e.what()));
        }
        if (!j.contains("files") || !j["files"].is_array())
            throw HarnessError(fmt::format("gcov JSON (document {}): no \"files\" array; is gcov older than 9?", n));
        for (const auto& f : j["files"]) {
            FileCoverage fc;
            fc.file = f.value("file", "");
            for (const auto& fn : f.value("functions", nlohmann::json::array())) {
                FunctionRecord r;
                r.name = fn.value("name", "");
                r.start_line = fn.value("start_line", 0);
                r.end_line = fn.value("end_line", 0);
                r.blocks = fn.value("blocks", 0);
                r.blocks_executed = fn.value("blocks_executed", 0);
                r.calls = fn.value("execution_count", 0LL);
                fc.functions.push_back(r);
            }
            std::map<int, LineCoverage> lines;
            for (const auto& l : f.value("lines", nlohmann::json::array())) {
                int number = l.value("line_number", 0);
                LineCoverage& lc = lines[number];
                lc.line = number;
                lc.count += l.value("count", 0LL);
                lc.unexecuted_block = lc.unexecuted_block || l.value("unexecuted_block", false);
                for (const auto& b : l.value("branches", nlohmann::json::array())) {
                    if (b.value("throw", false)) continue;
                    ++lc.branches;
                    if (b.value("count", 0LL) > 0) ++lc.branches_taken;
                }
            }
            for (auto& [_, lc] : lines) fc.lines.push_back(lc);
            // A header's lines can come once per object: merge same-named files.
            auto same = std::find_if(out.begin(), out.end(), [&](const FileCoverage& o) { return o.file == fc.file; });
            if (same == out.end()) {
                out.push_back(std::move(fc));
            } else {
                same->functions.insert(same->functions.end(), fc.functions.begin(), fc.functions.end());
                same->lines.insert(same->lines.end(), fc.lines.begin(), fc.lines.end());
            }
        }
    }
    return out;
}

std::optional<std::pair<int, int>> function_extent(const std::string& source, const std::string& name) {
    auto lines = split_lines(source);
    const std::string call = name + "(";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        if (l.empty() || l[0] == ' ' || l[0] == '\t' || l[0] == '#' || l[0] == '/' || l[0] == '*') continue;
        auto at = l.find(call);
        if (at == std::string::npos) continue;
        if (at > 0) {
            char before = l[at - 1];
            if (std::isalnum(static_cast<unsigned char>(before)) || before == '_') continue;
        }
        // A prototype ends with ';' before any body.
        std::size_t j = i;
        bool body = false;
        for (; j < lines.size() && j < i + 40; ++j) {
            if (!lines[j].empty() && lines[j][0] == '{') {
                body = true;
                break;
            }
            if (ends_with(trim(lines[j]), ";")) break;
        }
        if (!body) continue;
        for (std::size_t k = j + 1; k < lines.size(); ++k)
            if (!lines[k].empty() && lines[k][0] == '}') return std::make_pair(static_cast<int>(i + 1), static_cast<int>(k + 1));
        return std::nullopt;
    }
    return std::nullopt;
}

FunctionSummary summarize_function(const GuardedFunction& g, const std::vector<FileCoverage>& files,
                                   const std::string& source) {
    FunctionSummary s;
    s.guarded = g;
    const FileCoverage* fc = nullptr;
    for (const auto& f : files)
        if (same_file(f.file, g.file)) fc = &f;
    if (!fc) {
        s.note = "file not profiled (no .gcda)";
        return s;
    }
    const FunctionRecord* rec = nullptr;
    for (const auto& r : fc->functions)
        if (r.name == g.function) rec = &r;
    auto extent = function_extent(source, g.function);
    if (extent) {
        s.first_line = extent->first;
        s.last_line = extent->second;
    } else if (rec) {
        s.first_line = rec->start_line;
        s.last_line = rec->end_line;
    } else {
        s.note = "function not found in the source or gcov's records";
        return s;
    }
    if (rec) {
        s.blocks = rec->blocks;
        s.blocks_executed = rec->blocks_executed;
        s.calls = rec->calls;
    } else {
        s.note = "no function record of its own (inlined before profiling): figures from its lines";
    }
    auto src = split_lines(source);
    std::optional<std::pair<int, int>> open;
    for (const auto& l : fc->lines) {
        if (l.line < s.first_line || l.line > s.last_line) continue;
        ++s.lines;
        s.branches += l.branches;
        s.branches_taken += l.branches_taken;
        bool check = l.line >= 1 && static_cast<std::size_t>(l.line) <= src.size() && is_check_line(src[l.line - 1]);
        if (check) {
            s.check_branches += l.branches;
            s.check_branches_taken += l.branches_taken;
        }
        if (l.count > 0) {
            ++s.lines_reached;
            if (l.unexecuted_block) s.partial.push_back(l.line);
            if (l.branches_taken < l.branches && !check) s.untaken_branch_lines.push_back(l.line);
            if (open) s.unreached.push_back(*open), open.reset();
        } else if (open) {
            open->second = l.line;
        } else {
            open = std::make_pair(l.line, l.line);
        }
    }
    if (open) s.unreached.push_back(*open);
    s.found = true;
    if (s.lines == 0) s.note = "no executable lines (compiled out in this configuration?)";
    return s;
}

CoverageTotals totals_of(const std::vector<FunctionSummary>& v) {
    CoverageTotals t;
    for (const auto& s : v) {
        ++t.functions;
        if (!s.found) continue;
        ++t.found;
        t.lines += s.lines;
        t.lines_reached += s.lines_reached;
        t.branches += s.branches;
        t.branches_taken += s.branches_taken;
        t.check_branches += s.check_branches;
        t.check_branches_taken += s.check_branches_taken;
    }
    return t;
}

std::string percent(int part, int whole) {
    if (whole == 0) return "-";
    return fmt::format("{:.1f} %", 100.0 * part / whole);
}

std::string format_ranges(const std::vector<std::pair<int, int>>& ranges) {
    std::string out;
    for (const auto& [a, b] : ranges) {
        if (!out.empty()) out += ", ";
        out += a == b ? std::to_string(a) : fmt::format("{}-{}", a, b);
    }
    return out;
}

nlohmann::json coverage_json(const std::vector<FunctionSummary>& v) {
    nlohmann::json fns = nlohmann::json::array();
    for (const auto& s : v) {
        nlohmann::json j = {{"file", s.guarded.file},
                            {"function", s.guarded.function},
                            {"topic", s.guarded.topic},
                            {"found", s.found},
                            {"note", s.note},
                            {"first_line", s.first_line},
                            {"last_line", s.last_line},
                            {"lines", s.lines},
                            {"lines_reached", s.lines_reached},
                            {"branches", s.branches},
                            {"branches_taken", s.branches_taken},
                            {"check_branches", s.check_branches},
                            {"check_branches_taken", s.check_branches_taken},
                            {"calls", s.calls},
                            {"partial_lines", s.partial},
                            {"untaken_branch_lines", s.untaken_branch_lines}};
        j["blocks"] = s.blocks ? nlohmann::json(*s.blocks) : nlohmann::json(nullptr);
        j["blocks_executed"] = s.blocks_executed ? nlohmann::json(*s.blocks_executed) : nlohmann::json(nullptr);
        nlohmann::json ranges = nlohmann::json::array();
        for (const auto& [a, b] : s.unreached) ranges.push_back({a, b});
        j["unreached_lines"] = ranges;
        fns.push_back(j);
    }
    CoverageTotals t = totals_of(v);
    return {{"functions", fns},
            {"totals",
             {{"functions", t.functions},
              {"functions_found", t.found},
              {"lines", t.lines},
              {"lines_reached", t.lines_reached},
              {"branches", t.branches},
              {"branches_taken", t.branches_taken},
              {"check_branches", t.check_branches},
              {"check_branches_taken", t.check_branches_taken}}}};
}

std::string summary_markdown(const std::vector<FunctionSummary>& v, const std::map<std::string, std::string>& sources) {
    std::string md =
        "| function | file | lines reached | branches taken | branches, checks left out | blocks run | "
        "never-reached lines |\n"
        "| -------- | ---- | ------------- | -------------- | ------------------------- | ---------- | "
        "------------------- |\n";
    for (const auto& s : v) {
        if (!s.found) {
            md += fmt::format("| `{}` | {} | {} | | | | |\n", s.guarded.function, s.guarded.file, s.note);
            continue;
        }
        int nb = s.branches - s.check_branches, nt = s.branches_taken - s.check_branches_taken;
        md += fmt::format("| `{}` | {}:{} | {}/{} ({}) | {}/{} ({}) | {}/{} ({}) | {} | {} |\n", s.guarded.function,
                          s.guarded.file, s.first_line, s.lines_reached, s.lines, percent(s.lines_reached, s.lines),
                          s.branches_taken, s.branches, percent(s.branches_taken, s.branches), nt, nb, percent(nt, nb),
                          s.blocks ? fmt::format("{}/{}", *s.blocks_executed, *s.blocks) : "inlined",
                          s.unreached.empty() ? "none" : format_ranges(s.unreached));
    }
    CoverageTotals t = totals_of(v);
    int nb = t.branches - t.check_branches, nt = t.branches_taken - t.check_branches_taken;
    md += fmt::format("| **all {} guarded functions** | | {}/{} ({}) | {}/{} ({}) | {}/{} ({}) | | |\n", t.functions,
                      t.lines_reached, t.lines, percent(t.lines_reached, t.lines), t.branches_taken, t.branches,
                      percent(t.branches_taken, t.branches), nt, nb, percent(nt, nb));
    md += "\n\"Checks left out\" leaves out the branches of WARN*/BUG_ON/VM_BUG_ON*/VM_WARN* lines, whose "
          "failing side is a report.\n";
    for (const auto& s : v) {
        if (!s.found || (s.unreached.empty() && s.untaken_branch_lines.empty())) continue;
        md += fmt::format("\n### `{}` ({}:{}-{})\n\n", s.guarded.function, s.guarded.file, s.first_line, s.last_line);
        if (!s.note.empty()) md += s.note + "\n\n";
        auto it = sources.find(s.guarded.file);
        std::vector<std::string> src = it == sources.end() ? std::vector<std::string>{} : split_lines(it->second);
        auto text = [&](int n) {
            return n >= 1 && static_cast<std::size_t>(n) <= src.size() ? trim(src[n - 1]) : std::string();
        };
        if (!s.unreached.empty()) {
            md += "Never reached:\n\n```\n";
            for (const auto& [a, b] : s.unreached)
                for (int n = a; n <= b; ++n) md += fmt::format("{:5}  {}\n", n, text(n));
            md += "```\n";
        }
        if (!s.untaken_branch_lines.empty()) {
            md += "\nReached, with a branch never taken (checks left out):\n\n```\n";
            for (int n : s.untaken_branch_lines) md += fmt::format("{:5}  {}\n", n, text(n));
            md += "```\n";
        }
    }
    return md;
}

}  // namespace mmguard
