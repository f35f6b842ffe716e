#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

namespace mmguard {
namespace {

std::atomic<bool> g_interrupted{false};
int g_interrupt_pipe[2] = {-1, -1};

extern "C" void on_interrupt(int) {
    g_interrupted.store(true);
    if (g_interrupt_pipe[1] >= 0) {
        char c = 'x';
        [[maybe_unused]] auto n = ::write(g_interrupt_pipe[1], &c, 1);
    }
}

int open_or_die(const std::string& path, int flags) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd < 0) {
        // Only the forked child calls this; report and exit without unwinding.
        auto msg = fmt::format("mmguard: cannot open {}: {}\n", path, std::strerror(errno));
        [[maybe_unused]] auto n = ::write(2, msg.data(), msg.size());
        ::_exit(127);
    }
    return fd;
}

}  // namespace

void install_interrupt_handlers() {
    if (g_interrupt_pipe[0] < 0) {
        if (::pipe2(g_interrupt_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
            throw HarnessError(fmt::format("pipe: {}", std::strerror(errno)));
    }
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
    // A closed pipe to a child must be an error return, not a silent death.
    ::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return g_interrupted.load(); }
int interrupt_fd() { return g_interrupt_pipe[0]; }

Child::Child(const ProcessSpec& spec) {
    if (spec.argv.empty()) throw HarnessError("empty command");
    int pipefd[2] = {-1, -1};
    if (spec.pipe_stdout && ::pipe2(pipefd, O_CLOEXEC) != 0)
        throw HarnessError(fmt::format("pipe: {}", std::strerror(errno)));
    // Report exec failures through a close-on-exec pipe.
    int errpipe[2];
    if (::pipe2(errpipe, O_CLOEXEC) != 0)
        throw HarnessError(fmt::format("pipe: {}", std::strerror(errno)));

    std::vector<char*> argv;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw HarnessError(fmt::format("fork: {}", std::strerror(errno)));
    if (pid_ == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        struct sigaction sa {};
        sa.sa_handler = SIG_DFL;
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::sigaction(sig, &sa, nullptr);
        int in = open_or_die(spec.stdin_path, O_RDONLY);
        ::dup2(in, 0);
        if (spec.pipe_stdout) {
            ::dup2(pipefd[1], 1);
        } else if (!spec.stdout_path.empty()) {
            ::dup2(open_or_die(spec.stdout_path, O_WRONLY | O_CREAT | O_APPEND), 1);
        }
        if (spec.stderr_to_stdout) {
            ::dup2(1, 2);
        } else if (!spec.stderr_path.empty()) {
            ::dup2(open_or_die(spec.stderr_path, O_WRONLY | O_CREAT | O_APPEND), 2);
        }
        if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
            int e = errno;
            [[maybe_unused]] auto n = ::write(errpipe[1], &e, sizeof e);
            ::_exit(127);
        }
        for (const auto& [k, v] : spec.env) ::setenv(k.c_str(), v.c_str(), 1);
        ::execvp(argv[0], argv.data());
        int e = errno;
        [[maybe_unused]] auto n = ::write(errpipe[1], &e, sizeof e);
        ::_exit(127);
    }
    // Also set it here so signal_group() works even before the child runs.
    ::setpgid(pid_, pid_);
    ::close(errpipe[1]);
    if (spec.pipe_stdout) {
        ::close(pipefd[1]);
        out_fd_ = pipefd[0];
    }
    int child_errno = 0;
    ssize_t n;
    do {
        n = ::read(errpipe[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    ::close(errpipe[0]);
    if (n == sizeof child_errno) {
        wait();
        close_stdout();
        throw HarnessError(fmt::format("cannot run {}: {}", spec.argv[0], std::strerror(child_errno)));
    }
}

Child::~Child() {
    if (!status_) terminate(std::chrono::milliseconds(500));
    close_stdout();
}

void Child::close_stdout() {
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
}

void Child::signal_group(int sig) const {
    if (pid_ > 0 && !status_) ::kill(-pid_, sig);
}

std::optional<int> Child::poll_exit() {
    if (status_) return status_;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) status_ = st;
    return status_;
}

int Child::wait() {
    while (!status_) {
        int st = 0;
        pid_t r = ::waitpid(pid_, &st, 0);
        if (r == pid_) status_ = st;
        else if (r < 0 && errno != EINTR) status_ = 0;
    }
    // Whatever the leader left behind in its group goes too.
    ::kill(-pid_, SIGKILL);
    return *status_;
}

int Child::terminate(std::chrono::milliseconds grace) {
    if (status_) return *status_;
    signal_group(SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
        if (poll_exit()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid_, SIGKILL);
    return wait();
}

int exit_code_of(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 255;
}

bool have_program(std::string_view name) {
    namespace fs = std::filesystem;
    if (name.find('/') != std::string_view::npos) return ::access(std::string(name).c_str(), X_OK) == 0;
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/bin:/bin";
    while (!rest.empty()) {
        auto colon = rest.find(':');
        auto dir = rest.substr(0, colon);
        fs::path candidate = fs::path(std::string(dir)) / std::string(name);
        if (::access(candidate.c_str(), X_OK) == 0) return true;
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return false;
}

namespace {

// Reads a child's piped output to EOF, splitting lines; polls for Ctrl-C.
void pump_output(Child& child, const std::function<void(std::string_view)>& sink) {
    std::string pending;
    char buf[65536];
    while (child.stdout_fd() >= 0) {
        pollfd fds[2] = {{child.stdout_fd(), POLLIN, 0}, {interrupt_fd(), POLLIN, 0}};
        int nfds = interrupt_fd() >= 0 ? 2 : 1;
        int r = ::poll(fds, nfds, 500);
        if (interrupted()) {
            child.terminate();
            throw Interrupted();
        }
        if (r <= 0) continue;
        ssize_t n = ::read(child.stdout_fd(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buf, static_cast<std::size_t>(n));
        std::size_t start = 0, nl;
        while ((nl = pending.find('\n', start)) != std::string::npos) {
            sink(std::string_view(pending).substr(start, nl - start));
            start = nl + 1;
        }
        pending.erase(0, start);
        if (pending.size() > 65536) {  // a line without end: pass it on in pieces
            sink(pending);
            pending.clear();
        }
    }
    if (!pending.empty()) sink(pending);
    child.close_stdout();
}

}  // namespace

int run_logged(const ProcessSpec& spec, const std::string& log_path,
               const std::function<void(std::string_view)>& on_line) {
    std::ofstream log(log_path, std::ios::app);
    if (!log) throw HarnessError(fmt::format("cannot write {}", log_path));
    log << "$";
    for (const auto& a : spec.argv) log << ' ' << a;
    log << '\n';
    ProcessSpec piped = spec;
    piped.pipe_stdout = true;
    piped.stderr_to_stdout = true;
    Child child(piped);
    pump_output(child, [&](std::string_view line) {
        log << line << '\n';
        if (on_line) on_line(line);
    });
    return exit_code_of(child.wait());
}

std::string run_capture(const ProcessSpec& spec, std::string_view what) {
    ProcessSpec piped = spec;
    piped.pipe_stdout = true;
    Child child(piped);
    std::string out;
    pump_output(child, [&](std::string_view line) {
        out.append(line);
        out.push_back('\n');
    });
    int code = exit_code_of(child.wait());
    if (code != 0) throw HarnessError(fmt::format("{} failed (exit {}):\n{}", what, code, out));
    return out;
}

}  // namespace mmguard
