#include "file_io.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {

std::string read_file(const std::filesystem::path& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw HarnessError(fmt::format("cannot read {}", path.string()));
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
    std::filesystem::path tmp = path;
    tmp += fmt::format(".tmp{}", ::getpid());
    std::error_code ec;
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << content;
        f.flush();
        if (!f) {
            std::filesystem::remove(tmp, ec);
            throw HarnessError(fmt::format("cannot write {} (disk full?)", path.string()));
        }
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw HarnessError(fmt::format("cannot write {}: {}", path.string(), ec.message()));
    }
}

}  // namespace mmguard
