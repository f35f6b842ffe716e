#include "series_files.h"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "file_io.h"
#include "git_repo.h"
#include "process.h"

namespace mmguard {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

GitRepo repo_of(const Workspace& ws) { return GitRepo(ws.src() / ".git", ws.src()); }

std::vector<fs::path> paths_of(const std::string& format_patch_output) {
    std::vector<fs::path> files;
    for (const auto& line : lines_of(format_patch_output))
        if (!line.empty()) files.emplace_back(line);
    return files;
}

}  // namespace

int patch_number(const std::string& file_name) {
    std::size_t digits = 0;
    while (digits < file_name.size() && std::isdigit(static_cast<unsigned char>(file_name[digits]))) ++digits;
    if (digits == 0 || digits >= file_name.size() || file_name[digits] != '-') return 0;
    return std::stoi(file_name.substr(0, digits));
}

std::vector<fs::path> format_series_commits(const Workspace& ws, const PreparedTree& tree, const fs::path& dir) {
    GitRepo git = repo_of(ws);
    auto names = read_series(ws.patches() / "series");
    if (names.size() != tree.series_commits.size())
        throw HarnessError(fmt::format("the tree holds {} series commits, patches/series names {}",
                                       tree.series_commits.size(), names.size()));
    fs::create_directories(dir);
    std::vector<fs::path> files;
    for (std::size_t i = 0; i < names.size(); ++i) {
        int number = patch_number(names[i]);
        if (number == 0) number = static_cast<int>(i) + 1;
        auto out = paths_of(git.run({"format-patch", "--no-signature", "--start-number", std::to_string(number),
                                     "-o", dir.string(), "-1", tree.series_commits[i]}));
        if (out.size() != 1) throw HarnessError("git format-patch wrote no file for " + names[i]);
        files.push_back(out.front());
    }
    return files;
}

std::vector<SeriesDrift> compare_series(const std::vector<fs::path>& regenerated,
                                        const std::vector<std::string>& committed_names,
                                        const fs::path& patches_dir) {
    std::vector<SeriesDrift> drift;
    for (std::size_t i = 0; i < committed_names.size() && i < regenerated.size(); ++i) {
        const std::string& name = committed_names[i];
        if (regenerated[i].filename() != name) {
            drift.push_back({name, "git format-patch names it " + regenerated[i].filename().string()});
            continue;
        }
        auto want = lines_of(read_file(regenerated[i]));
        auto have = lines_of(read_file(patches_dir / name));
        // The first differing line, but a differing hunk header first: that
        // is a patch that applies only with an offset.
        std::string first, hunk;
        for (std::size_t l = 1; l < std::max(want.size(), have.size()); ++l) {
            const std::string& w = l < want.size() ? want[l] : "<end of file>";
            const std::string& h = l < have.size() ? have[l] : "<end of file>";
            if (w == h) continue;
            std::string what = fmt::format("line {}: has '{}', format-patch writes '{}'", l + 1, h.substr(0, 120),
                                           w.substr(0, 120));
            if (first.empty()) first = what;
            if (h.rfind("@@ ", 0) == 0 && w.rfind("@@ ", 0) == 0) {
                hunk = what + " (it applies only with an offset)";
                break;
            }
        }
        if (!first.empty()) drift.push_back({name, "differs from git format-patch at " + (hunk.empty() ? first : hunk)});
    }
    return drift;
}

void update_series(const std::vector<fs::path>& regenerated, const std::vector<std::string>& committed_names,
                   const fs::path& patches_dir) {
    std::string series = read_file(patches_dir / "series");
    for (std::size_t i = 0; i < committed_names.size() && i < regenerated.size(); ++i) {
        std::string fresh = regenerated[i].filename().string();
        write_file_atomically(patches_dir / fresh, read_file(regenerated[i]));
        if (fresh == committed_names[i]) continue;
        fs::remove(patches_dir / committed_names[i]);
        auto at = series.find(committed_names[i]);
        if (at != std::string::npos) series.replace(at, committed_names[i].size(), fresh);
    }
    write_file_atomically(patches_dir / "series", series);
}

std::vector<fs::path> export_series_with_cover(const Workspace& ws, const PreparedTree& tree,
                                               const fs::path& dir) {
    GitRepo git = repo_of(ws);
    fs::create_directories(dir);
    // A shorter stack than last time must not leave stale patches behind.
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".patch") fs::remove(e.path());
    auto files = paths_of(git.run({"format-patch", "--no-signature", "--numbered", "--cover-letter",
                                   "--base=" + tree.base_commit, "-o", dir.string(),
                                   tree.base_commit + ".." + tree.head_commit}));
    if (files.empty() || files.front().filename().string().rfind("0000-cover-letter", 0) != 0)
        throw HarnessError("git format-patch wrote no cover letter");
    fs::path blurb_file = ws.patches() / "cover-letter";
    if (!fs::exists(blurb_file)) return files;
    auto blurb = lines_of(read_file(blurb_file));
    if (blurb.empty()) return files;
    std::string subject = blurb.front();
    std::string body;
    for (std::size_t i = 1; i < blurb.size(); ++i) body += blurb[i] + "\n";
    while (!body.empty() && body.front() == '\n') body.erase(body.begin());
    std::string cover = read_file(files.front());
    auto put = [&](const std::string& placeholder, const std::string& text) {
        auto at = cover.find(placeholder);
        if (at == std::string::npos)
            throw HarnessError("the cover letter git format-patch wrote has no " + placeholder);
        cover.replace(at, placeholder.size(), text);
    };
    put("*** SUBJECT HERE ***", subject);
    while (!body.empty() && body.back() == '\n') body.pop_back();
    put("*** BLURB HERE ***", body);
    write_file_atomically(files.front(), cover);
    return files;
}

std::string git_am_tree(const Workspace& ws, const PreparedTree& tree, const std::vector<fs::path>& files) {
    GitRepo git = repo_of(ws);
    fs::path scratch = ws.work / "am-check";
    std::string out;
    git.try_run({"worktree", "remove", "--force", scratch.string()}, out);
    fs::remove_all(scratch);
    git.run({"worktree", "prune"});
    // Only the directories the series touches are checked out (a sparse
    // cone): a whole kernel tree is 90 000 files and minutes on a busy disk.
    std::set<std::string> dirs;
    for (const auto& f : files)
        for (const auto& line : lines_of(read_file(f)))
            if (line.rfind("diff --git a/", 0) == 0) {
                std::string path = line.substr(13, line.find(' ', 13) - 13);
                auto slash = path.rfind('/');
                if (slash != std::string::npos) dirs.insert(path.substr(0, slash));
            }
    git.run({"worktree", "add", "--detach", "--no-checkout", "--quiet", scratch.string(), tree.base_commit});
    GitRepo am(ws.src() / ".git" / "worktrees" / scratch.filename(), scratch);
    std::vector<std::string> cone = {"sparse-checkout", "set", "--cone"};
    cone.insert(cone.end(), dirs.begin(), dirs.end());
    am.run(cone);
    am.run({"checkout", "--quiet", "--detach", tree.base_commit});
    std::vector<std::string> args = {"-c", "user.name=mmguard am-check", "-c", "user.email=mmguard@localhost",
                                     "am", "--quiet"};
    for (const auto& f : files)
        if (f.filename().string().rfind("0000-cover-letter", 0) != 0) args.push_back(f.string());
    int rc = am.try_run(args, out);
    std::string result;
    if (rc == 0) result = am.run({"rev-parse", "HEAD^{tree}"});
    git.try_run({"worktree", "remove", "--force", scratch.string()}, out);
    if (rc != 0) throw HarnessError("git am of the exported series failed:\n" + out.substr(0, 2000));
    return result;
}

SeriesCheck check_series(const Workspace& ws, const PreparedTree& tree, const fs::path& scratch) {
    SeriesCheck c;
    auto names = read_series(ws.patches() / "series");
    auto files = format_series_commits(ws, tree, scratch / "format-patch");
    c.patches = files.size();
    c.drift = compare_series(files, names, ws.patches());
    c.exported = export_series_with_cover(ws, tree, scratch / "series");
    c.am_tree = git_am_tree(ws, tree, c.exported);
    c.built_tree = repo_of(ws).run({"rev-parse", tree.head_commit + "^{tree}"});
    return c;
}

}  // namespace mmguard
