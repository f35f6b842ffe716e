// Thin wrapper over the git plumbing the kernel tree preparation uses.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "process.h"

namespace mmguard {

class GitRepo {
public:
    // `git_dir` is the repository, `work_tree` its checkout.
    GitRepo(std::filesystem::path git_dir, std::filesystem::path work_tree);

    // Runs git with an optional private index file; returns stdout, trimmed
    // of the final newline. Throws HarnessError with git's messages.
    std::string run(const std::vector<std::string>& args, const std::string& index_file = "",
                    const std::vector<std::pair<std::string, std::string>>& env = {}) const;
    // Like run() but returns the exit code and puts stdout+stderr in `output`.
    int try_run(const std::vector<std::string>& args, std::string& output,
                const std::string& index_file = "") const;

    // Writes `content` as a blob, returns its id.
    std::string hash_blob(const std::string& content) const;

    const std::filesystem::path& git_dir() const { return git_dir_; }
    const std::filesystem::path& work_tree() const { return work_tree_; }

private:
    ProcessSpec spec(const std::vector<std::string>& args, const std::string& index_file,
                     const std::vector<std::pair<std::string, std::string>>& env) const;
    std::filesystem::path git_dir_;
    std::filesystem::path work_tree_;
};

}  // namespace mmguard
