#include "job_queue.h"

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "process.h"

namespace mmguard {
namespace {

TEST(JobQueue, RunsTheJobsInOrderAndTellsWhichIsDone) {
    std::vector<int> ran;
    std::mutex m;
    std::vector<std::function<void()>> jobs;
    for (int i = 0; i < 4; ++i)
        jobs.push_back([&, i] {
            std::lock_guard<std::mutex> lock(m);
            ran.push_back(i);
        });
    JobQueue q(std::move(jobs));
    EXPECT_EQ(q.wait_any({3}), 3u);
    std::lock_guard<std::mutex> lock(m);
    EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3}));
}

TEST(JobQueue, WaitAnyReturnsTheFirstDoneInTheCallersOrder) {
    std::promise<void> gate;
    std::shared_future<void> open = gate.get_future().share();
    std::vector<std::function<void()>> jobs = {[] {}, [] {}, [open] { open.wait(); }};
    JobQueue q(std::move(jobs));
    EXPECT_EQ(q.wait_any({1}), 1u);
    // Job 2 waits for the gate: of {2, 1, 0}, all but 2 done, 1 comes first.
    EXPECT_EQ(q.wait_any({2, 1, 0}), 1u);
    gate.set_value();
    EXPECT_EQ(q.wait_any({2}), 2u);
}

TEST(JobQueue, AJobThatThrowsStopsTheQueueAndTheWaiterSeesIt) {
    std::atomic<bool> after{false};
    std::vector<std::function<void()>> jobs = {[] { throw HarnessError("build failed"); }, [&] { after = true; }};
    JobQueue q(std::move(jobs));
    EXPECT_THROW(q.wait_any({1}), HarnessError);
    EXPECT_FALSE(after.load());
}

TEST(JobQueue, CancelLetsTheRunningJobFinishAndStartsNoOther) {
    std::promise<void> started, gate;
    std::shared_future<void> open = gate.get_future().share();
    std::atomic<int> ran{0};
    {
        std::vector<std::function<void()>> jobs = {[&, open] {
                                                       started.set_value();
                                                       open.wait();
                                                       ++ran;
                                                   },
                                                   [&] { ++ran; }};
        JobQueue q(std::move(jobs));
        started.get_future().wait();
        q.cancel();
        gate.set_value();
        EXPECT_THROW(q.wait_any({1}), HarnessError);   // job 1 will never run
    }
    EXPECT_EQ(ran.load(), 1);
}

TEST(JobQueue, AJobOutsideTheQueueIsAnError) {
    JobQueue q({[] {}});
    EXPECT_THROW(q.wait_any({5}), std::out_of_range);
}

}  // namespace
}  // namespace mmguard
