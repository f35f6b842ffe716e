#include "kernel_tree.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "digest.h"
#include "file_io.h"
#include "git_repo.h"
#include "progress.h"

namespace mmguard {
namespace {

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

const std::vector<std::pair<std::string, std::string>> kFixedIdentity = {
    {"GIT_COMMITTER_NAME", "mmguard build"},
    {"GIT_COMMITTER_EMAIL", "mmguard@localhost"},
};

// Identity of where the base came from; a new one means a new import.
std::string source_identity(const TreeOptions& o) {
    if (!o.ksrc.empty()) return "dir:" + fs::canonical(o.ksrc).string();
    struct stat st {};
    if (::stat(o.tarball.c_str(), &st) != 0)
        throw HarnessError(fmt::format(
            "kernel source {} not found: run 'make deps' (installs linux-source-6.12) "
            "or pass KSRC=/path/to/linux",
            o.tarball.string()));
    return fmt::format("tar:{}:{}:{}", o.tarball.string(), st.st_size, st.st_mtime);
}

std::string commit_tree(const GitRepo& git, const std::string& tree, const std::string& parent,
                        const std::string& message, std::vector<std::pair<std::string, std::string>> env) {
    auto msg_file = git.git_dir() / "mmguard-msg.tmp";
    write_file_atomically(msg_file, message);
    std::vector<std::string> args = {"commit-tree", tree, "-F", msg_file.string()};
    if (!parent.empty()) args.insert(args.begin() + 2, {"-p", parent});
    env.insert(env.end(), kFixedIdentity.begin(), kFixedIdentity.end());
    return git.run(args, "", env);
}

// Remembers which commit applying a given patch (by content) on a given
// parent gave, in .git/mmguard-commit-memo: the commits are deterministic
// (author, dates and committer are fixed), and building them again costs a
// read-tree and write-tree of the whole kernel index per patch (about 1 s
// each), which every run and every proof row would otherwise pay.
class CommitMemo {
public:
    explicit CommitMemo(const GitRepo& git) : git_(git), file_(git.git_dir() / "mmguard-commit-memo") {
        if (!fs::exists(file_)) return;
        std::istringstream lines(read_file(file_));
        std::string key, commit;
        while (lines >> key >> commit) memo_[key] = commit;
    }
    // The commit recorded for `key`, if it still exists in the repository.
    std::string find(const std::string& key) const {
        auto it = memo_.find(key);
        if (it == memo_.end()) return "";
        std::string out;
        if (git_.try_run({"cat-file", "-e", it->second + "^{commit}"}, out) != 0) return "";
        return it->second;
    }
    void remember(const std::string& key, const std::string& commit) {
        memo_[key] = commit;
        std::string text;
        for (const auto& [k, c] : memo_) text += k + " " + c + "\n";
        write_file_atomically(file_, text);
    }

private:
    const GitRepo& git_;
    fs::path file_;
    std::map<std::string, std::string> memo_;
};

// Imports the base source (once per source identity) and returns its commit.
std::string import_base(const Workspace& ws, const TreeOptions& o, const GitRepo& git) {
    std::string id = source_identity(o);
    auto id_file = git.git_dir() / "mmguard-base-id";
    std::string existing;
    if (fs::exists(id_file)) existing = read_file(id_file);
    std::string base_ref;
    std::string out;
    if (git.try_run({"rev-parse", "-q", "--verify", "refs/mmguard/base^{commit}"}, out) == 0)
        base_ref = trim(out);
    // A user's tree can change between runs: always re-read it (the index
    // keeps stat data, so unchanged files are not hashed again).
    if (!base_ref.empty() && existing == id && o.ksrc.empty()) return base_ref;

    fs::path tree_dir;
    fs::path unpack = ws.work / "import.tmp";
    auto index = (git.git_dir() / "mmguard-import.index").string();
    if (o.ksrc.empty()) {
        Stage stage("extract", o.tarball.filename().string());
        fs::remove_all(unpack);
        fs::create_directories(unpack);
        ProcessSpec tar;
        tar.argv = {"tar", "-xf", o.tarball.string(), "-C", unpack.string(), "--strip-components=1"};
        run_capture(tar, "extracting " + o.tarball.string());
        tree_dir = unpack;
        fs::remove(index);
    } else {
        tree_dir = fs::canonical(o.ksrc);
        if (!fs::exists(tree_dir / "Makefile") || !fs::exists(tree_dir / "mm/page_alloc.c"))
            throw HarnessError(fmt::format("KSRC={} does not look like a kernel tree", o.ksrc.string()));
    }
    std::string tree;
    {
        Stage stage("import", "recording the base tree (first run only)");
        GitRepo reader(git.git_dir(), tree_dir);
        reader.run({"add", "-A", "-f", "."}, index);
        tree = reader.run({"write-tree"}, index);
    }
    std::string commit = commit_tree(git, tree, "", "base: " + id + "\n",
                                     {{"GIT_AUTHOR_NAME", "mmguard build"},
                                      {"GIT_AUTHOR_EMAIL", "mmguard@localhost"},
                                      {"GIT_AUTHOR_DATE", "@0 +0000"},
                                      {"GIT_COMMITTER_DATE", "@0 +0000"}});
    git.run({"update-ref", "refs/mmguard/base", commit});
    write_file_atomically(id_file, id);
    fs::remove_all(unpack);
    return commit;
}

struct MailInfo {
    std::string author, email, date, subject, body;
};

MailInfo mail_info(const GitRepo& git, const fs::path& patch) {
    auto msg = git.git_dir() / "mmguard-mailinfo.msg";
    auto diff = git.git_dir() / "mmguard-mailinfo.patch";
    ProcessSpec s;
    s.argv = {"git", "mailinfo", msg.string(), diff.string()};
    s.stdin_path = patch.string();
    s.stderr_to_stdout = false;
    std::string header = run_capture(s, "git mailinfo " + patch.string());
    MailInfo info;
    std::istringstream lines(header);
    std::string line;
    while (std::getline(lines, line)) {
        auto colon = line.find(": ");
        if (colon == std::string::npos) continue;
        auto key = line.substr(0, colon), value = line.substr(colon + 2);
        if (key == "Author") info.author = value;
        else if (key == "Email") info.email = value;
        else if (key == "Date") info.date = value;
        else if (key == "Subject") info.subject = value;
    }
    info.body = read_file(msg);
    if (info.subject.empty())
        throw HarnessError(fmt::format("{}: not a git format-patch file (no Subject:)", patch.string()));
    return info;
}

// Applies one patch on top of `parent` in a private index; returns the commit.
std::string apply_patch(const GitRepo& git, CommitMemo& memo, const std::string& parent, const fs::path& patch,
                        std::string& subject) {
    if (!fs::exists(patch)) throw HarnessError(fmt::format("patch {} is missing", patch.string()));
    MailInfo info = mail_info(git, patch);
    subject = info.subject;
    std::string key = parent + ":patch:" + sha256_hex(read_file(patch));
    if (std::string known = memo.find(key); !known.empty()) return known;
    auto index = (git.git_dir() / "mmguard-stack.index").string();
    git.run({"read-tree", parent}, index);
    std::string out;
    // No fuzz: git apply needs every context line to match (offsets are fine).
    int rc = git.try_run({"apply", "--cached", "--whitespace=nowarn", "-p1", patch.string()}, out, index);
    if (rc != 0)
        throw HarnessError(fmt::format(
            "patch {} does not apply to this tree (no fuzz allowed); build/src is unchanged.\n{}",
            patch.filename().string(), trim(out)));
    std::string tree = git.run({"write-tree"}, index);
    std::string commit = commit_tree(git, tree, parent, info.subject + "\n\n" + info.body,
                                     {{"GIT_AUTHOR_NAME", info.author},
                                      {"GIT_AUTHOR_EMAIL", info.email},
                                      {"GIT_AUTHOR_DATE", info.date.empty() ? "@0 +0000" : info.date},
                                      {"GIT_COMMITTER_DATE", info.date.empty() ? "@0 +0000" : info.date}});
    memo.remember(key, commit);
    return commit;
}

// The KUnit hook: kunit/ goes to mm/mmguard/ (with its .kunitconfig, for
// kunit.py), wired into mm/Kconfig and mm/Makefile.
std::string add_kunit_commit(const Workspace& ws, const GitRepo& git, CommitMemo& memo, const std::string& parent) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(ws.kunit())) {
        auto name = e.path().filename().string();
        auto ext = e.path().extension().string();
        if (e.is_regular_file() &&
            (name == "Kconfig" || name == "Makefile" || name == ".kunitconfig" || ext == ".c" || ext == ".h"))
            files.push_back(e.path());
    }
    if (files.empty()) return parent;
    std::sort(files.begin(), files.end());
    std::string contents;
    for (const auto& f : files) contents += f.filename().string() + '\0' + sha256_hex(read_file(f)) + '\n';
    std::string key = parent + ":kunit:" + sha256_hex(contents);
    if (std::string known = memo.find(key); !known.empty()) return known;
    auto index = (git.git_dir() / "mmguard-stack.index").string();
    git.run({"read-tree", parent}, index);
    for (const auto& f : files) {
        std::string blob = git.hash_blob(read_file(f));
        git.run({"update-index", "--add", "--cacheinfo",
                 "100644," + blob + ",mm/mmguard/" + f.filename().string()}, index);
    }
    auto append = [&](const std::string& path, const std::string& line) {
        std::string content = git.run({"cat-file", "blob", parent + ":" + path});
        content += "\n" + line + "\n";
        git.run({"update-index", "--add", "--cacheinfo", "100644," + git.hash_blob(content) + "," + path},
                index);
    };
    append("mm/Kconfig", "source \"mm/mmguard/Kconfig\"");
    append("mm/Makefile", "obj-y += mmguard/");
    std::string tree = git.run({"write-tree"}, index);
    std::string commit = commit_tree(git, tree, parent,
                                     "mm: add the mmguard KUnit suites\n\n"
                                     "Wires the suites from mmguard's kunit/ directory into mm/mmguard/\n"
                                     "(CONFIG_MMGUARD_KUNIT).\n",
                                     {{"GIT_AUTHOR_NAME", "mmguard"},
                                      {"GIT_AUTHOR_EMAIL", "mmguard@localhost"},
                                      {"GIT_AUTHOR_DATE", "@0 +0000"},
                                      {"GIT_COMMITTER_DATE", "@0 +0000"}});
    memo.remember(key, commit);
    return commit;
}

std::string kernel_version_of(const fs::path& src) {
    std::ifstream f(src / "Makefile");
    std::string line, v, p, s, e;
    while (std::getline(f, line) && (v.empty() || p.empty() || s.empty())) {
        auto value = [&](const char* key) {
            return line.rfind(key, 0) == 0 ? trim(line.substr(line.find('=') + 1)) : std::string();
        };
        if (auto x = value("VERSION ="); !x.empty()) v = x;
        if (auto x = value("PATCHLEVEL ="); !x.empty()) p = x;
        if (auto x = value("SUBLEVEL ="); !x.empty()) s = x;
    }
    return v + "." + p + "." + s;
}

}  // namespace

std::vector<std::string> read_series(const fs::path& series_file) {
    std::vector<std::string> names;
    if (!fs::exists(series_file)) return names;
    std::ifstream f(series_file);
    std::string line;
    while (std::getline(f, line)) {
        line = trim(line.substr(0, line.find('#')));
        if (line.empty()) continue;
        std::istringstream words(line);
        std::string name, opt;
        words >> name;
        while (words >> opt)
            if (opt != "-p1")
                throw HarnessError(fmt::format("{}: option '{}' for {} is not supported (only -p1)",
                                               series_file.string(), opt, name));
        names.push_back(name);
    }
    return names;
}

PreparedTree prepare_tree(const Workspace& ws, const TreeOptions& o) {
    fs::create_directories(ws.src());
    GitRepo git(ws.src() / ".git", ws.src());
    if (!fs::exists(ws.src() / ".git")) {
        ProcessSpec init;
        init.argv = {"git", "init", "-q", ws.src().string()};
        run_capture(init, "git init");
        git.run({"config", "gc.auto", "0"});
        git.run({"config", "core.quotePath", "false"});
    }
    PreparedTree result;
    result.base_commit = import_base(ws, o, git);

    std::string head = result.base_commit;
    CommitMemo memo(git);
    std::vector<fs::path> stack;
    if (o.apply_series)
        for (const auto& name : read_series(ws.patches() / "series")) stack.push_back(ws.patches() / name);
    std::size_t series_size = stack.size();
    stack.insert(stack.end(), o.extra.begin(), o.extra.end());
    for (std::size_t i = 0; i < stack.size(); ++i) {
        std::string subject;
        head = apply_patch(git, memo, head, stack[i], subject);
        result.applied.push_back(subject);
        if (i < series_size) result.series_commits.push_back(head);
    }
    head = add_kunit_commit(ws, git, memo, head);
    result.head_commit = head;

    std::string current, out;
    if (git.try_run({"rev-parse", "-q", "--verify", "HEAD"}, out) == 0) current = trim(out);
    if (!current.empty()) {
        std::string dirty = git.run({"status", "--porcelain", "--untracked-files=no"});
        if (!dirty.empty() && !o.force)
            throw HarnessError(fmt::format(
                "{} has local changes; they would be lost:\n{}\nTurn them into a patch in "
                "patches/ (or rerun with --force to discard them).",
                ws.src().string(), dirty.substr(0, 2000)));
    }
    if (current != head) {
        Stage stage("checkout", current.empty() ? "first checkout of the kernel tree" : "switching tree");
        git.run({"checkout", "-q", "-f", "--detach", head});
        result.checked_out = true;
    }
    result.kernel_version = kernel_version_of(ws.src());
    return result;
}

}  // namespace mmguard
