#include "job_queue.h"

#include <chrono>
#include <stdexcept>

#include "process.h"

namespace mmguard {

JobQueue::JobQueue(std::vector<std::function<void()>> jobs)
    : jobs_(std::move(jobs)), done_(jobs_.size(), false), thread_([this] { run(); }) {}

JobQueue::~JobQueue() {
    cancel();
    thread_.join();
}

void JobQueue::cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    changed_.notify_all();
}

void JobQueue::run() {
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stop_) return;
        }
        std::exception_ptr failure;
        try {
            jobs_[i]();
        } catch (...) {
            failure = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        done_[i] = true;
        if (failure) failure_ = failure, stop_ = true;
        changed_.notify_all();
        if (stop_) return;
    }
}

std::size_t JobQueue::wait_any(const std::vector<std::size_t>& wanted) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        if (failure_) std::rethrow_exception(failure_);
        for (std::size_t i : wanted) {
            if (i >= done_.size()) throw std::out_of_range("JobQueue::wait_any: no such job");
            if (done_[i]) return i;
        }
        if (stop_ || wanted.empty()) throw HarnessError("waiting for a job the queue will not run");
        if (interrupted()) throw Interrupted();
        changed_.wait_for(lock, std::chrono::milliseconds(200));
    }
}

}  // namespace mmguard
