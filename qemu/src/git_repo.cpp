#include "git_repo.h"

#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

namespace mmguard {

GitRepo::GitRepo(std::filesystem::path git_dir, std::filesystem::path work_tree)
    : git_dir_(std::move(git_dir)), work_tree_(std::move(work_tree)) {}

ProcessSpec GitRepo::spec(const std::vector<std::string>& args, const std::string& index_file,
                          const std::vector<std::pair<std::string, std::string>>& env) const {
    ProcessSpec s;
    s.argv = {"git", "--git-dir=" + git_dir_.string(), "--work-tree=" + work_tree_.string()};
    s.argv.insert(s.argv.end(), args.begin(), args.end());
    s.cwd = work_tree_.string();
    if (!index_file.empty()) s.env.emplace_back("GIT_INDEX_FILE", index_file);
    // Commits made here are build bookkeeping; they never leave build/.
    s.env.insert(s.env.end(), {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_TERMINAL_PROMPT", "0"}});
    s.env.insert(s.env.end(), env.begin(), env.end());
    return s;
}

std::string GitRepo::run(const std::vector<std::string>& args, const std::string& index_file,
                         const std::vector<std::pair<std::string, std::string>>& env) const {
    ProcessSpec s = spec(args, index_file, env);
    s.stderr_to_stdout = false;
    std::string out = run_capture(s, fmt::format("git {}", args.empty() ? "" : args.front()));
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

int GitRepo::try_run(const std::vector<std::string>& args, std::string& output,
                     const std::string& index_file) const {
    ProcessSpec s = spec(args, index_file, {});
    s.stderr_to_stdout = true;
    Child child(s);
    output.clear();
    char buf[8192];
    ssize_t n;
    while ((n = ::read(child.stdout_fd(), buf, sizeof buf)) > 0) output.append(buf, n);
    return exit_code_of(child.wait());
}

std::string GitRepo::hash_blob(const std::string& content) const {
    auto tmp = git_dir_ / "mmguard-blob.tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << content;
    }
    return run({"hash-object", "-w", "--", tmp.string()});
}

}  // namespace mmguard
