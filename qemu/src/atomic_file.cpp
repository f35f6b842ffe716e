#include "atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "process.h"

namespace mmguard {

namespace fs = std::filesystem;

void write_file_atomically(const fs::path& path, std::string_view content) {
    fs::path tmp = path;
    tmp += fmt::format(".tmp.{}", ::getpid());
    auto fail = [&](const char* step, int err) {
        ::unlink(tmp.c_str());
        throw HarnessError(fmt::format("cannot write {}: {} failed: {}", path.string(), step, std::strerror(err)));
    };
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw HarnessError(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    for (std::size_t done = 0; done < content.size();) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            ::close(fd);
            fail("write", err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        int err = errno;
        ::close(fd);
        fail("fsync", err);
    }
    if (::close(fd) != 0) fail("close", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno);
}

}  // namespace mmguard
