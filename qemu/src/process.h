// Child processes: each in its own process group, always reaped, killed as
// a group on timeout or interruption. One signal handler turns SIGINT,
// SIGTERM and SIGHUP into a flag the loops below poll.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mmguard {

// Thrown when the user interrupted the tool (Ctrl-C, SIGTERM): the caller
// has already killed and reaped its children.
struct Interrupted : std::runtime_error {
    Interrupted() : std::runtime_error("interrupted") {}
};

// A failure of the tool's environment or inputs (missing program, patch that
// does not apply, build error): reported as a harness error.
struct HarnessError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void install_interrupt_handlers();
bool interrupted();
int interrupt_fd();  // readable once an interrupt arrived

struct ProcessSpec {
    std::vector<std::string> argv;
    std::string cwd;                                         // "" = inherit
    std::vector<std::pair<std::string, std::string>> env;    // added/overridden
    std::string stdin_path = "/dev/null";
    bool pipe_stdout = true;      // else stdout goes to stdout_path
    std::string stdout_path;      // used when !pipe_stdout ("" = inherit)
    bool stderr_to_stdout = true; // else stderr goes to stderr_path
    std::string stderr_path;      // "" = inherit
};

class Child {
public:
    explicit Child(const ProcessSpec& spec);   // throws HarnessError
    ~Child();                                  // kills the group and reaps
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    int stdout_fd() const { return out_fd_; }  // -1 if not piped
    void close_stdout();

    // Signals the child's whole process group.
    void signal_group(int sig) const;
    // SIGTERM, then SIGKILL after `grace`; reaps. Returns the wait status.
    int terminate(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
    // Non-blocking: the wait status if the child has exited.
    std::optional<int> poll_exit();
    int wait();  // blocking

private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    std::optional<int> status_;
};

// Exit code from a wait status: the exit status, or 128 + signal.
int exit_code_of(int wait_status);

// True if `name` is an executable found on PATH (or an existing path).
bool have_program(std::string_view name);

// Runs a command to completion, appending its output to `log_path`. Each
// output line is handed to `on_line` (for progress). Ctrl-C kills it and
// throws Interrupted. Returns the exit code.
int run_logged(const ProcessSpec& spec, const std::string& log_path,
               const std::function<void(std::string_view)>& on_line = {});

// Runs a short command and returns its stdout (stderr goes to the log or is
// dropped). Throws HarnessError with `what` and the output on failure.
std::string run_capture(const ProcessSpec& spec, std::string_view what);

}  // namespace mmguard
