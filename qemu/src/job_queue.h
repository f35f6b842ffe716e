// Jobs run one after another on a thread of their own, in the order given,
// while the caller waits for whichever of them it needs next: the proof
// matrix builds its kernels there and boots each one as soon as it is built.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mmguard {

class JobQueue {
public:
    explicit JobQueue(std::vector<std::function<void()>> jobs);
    // cancel() and join the thread.
    ~JobQueue();
    JobQueue(const JobQueue&) = delete;
    JobQueue& operator=(const JobQueue&) = delete;

    // Blocks until one of `wanted` (job indices) is done and returns the
    // first of them, in the order given, that is. Rethrows what a job threw
    // (the queue stops at that job); throws Interrupted on Ctrl-C.
    std::size_t wait_any(const std::vector<std::size_t>& wanted);

    // Lets the running job finish and starts no other.
    void cancel();

private:
    void run();

    std::vector<std::function<void()>> jobs_;
    std::vector<bool> done_;
    std::exception_ptr failure_;
    bool stop_ = false;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::thread thread_;
};

}  // namespace mmguard
