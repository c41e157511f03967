// ThreadPool alone: every task runs exactly once, errors and stops skip the rest, concurrent
// callers all finish, and the workers really run in parallel with the caller.
#include "plugins/compute/cpu/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace sealhost::compute_cpu {
namespace {

const auto kAlways = [] { return true; };

TEST(ThreadPoolTest, RunsEveryTaskExactlyOnce) {
  for (unsigned threads : {1u, 2u, 3u, 5u}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (size_t tasks : {size_t{0}, size_t{1}, size_t{2}, size_t{7}, size_t{1000}}) {
      std::vector<std::atomic<int>> hits(tasks);
      EXPECT_TRUE(pool.run(
          tasks, [&](size_t i) { hits[i].fetch_add(1); }, kAlways));
      for (size_t i = 0; i < tasks; ++i) {
        EXPECT_EQ(hits[i].load(), 1) << "task " << i << " of " << tasks << " on " << threads;
      }
    }
  }
}

TEST(ThreadPoolTest, OneThreadRunsOnTheCaller) {
  ThreadPool pool(1);
  const auto caller = std::this_thread::get_id();
  std::set<std::thread::id> seen;
  pool.run(
      50, [&](size_t) { seen.insert(std::this_thread::get_id()); }, kAlways);
  EXPECT_EQ(seen, std::set<std::thread::id>{caller}) << "threads = 1 starts no worker";
}

TEST(ThreadPoolTest, WorkersRunBesideTheCaller) {
  ThreadPool pool(2);
  // Each task waits (bounded) until two tasks are inside at once: only true parallelism lets the
  // first one through before its deadline.
  std::atomic<int> inside{0};
  std::atomic<int> met{0};
  pool.run(
      2,
      [&](size_t) {
        inside.fetch_add(1);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (inside.load() < 2 && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::yield();
        }
        if (inside.load() >= 2) met.fetch_add(1);
      },
      kAlways);
  EXPECT_EQ(met.load(), 2) << "the two tasks never ran at the same time";
}

TEST(ThreadPoolTest, AnExceptionIsRethrownAndSkipsTasksNotStarted) {
  ThreadPool pool(1);  // deterministic order on the caller
  std::vector<int> ran;
  EXPECT_THROW(pool.run(
                   10,
                   [&](size_t i) {
                     ran.push_back(static_cast<int>(i));
                     if (i == 3) throw std::runtime_error("task 3 failed");
                   },
                   kAlways),
               std::runtime_error);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3}));
}

TEST(ThreadPoolTest, MonitorStopsTheRunAndIsCalledOnTheCaller) {
  for (unsigned threads : {1u, 2u}) {
    ThreadPool pool(threads);
    const auto caller = std::this_thread::get_id();
    std::atomic<int> ran{0};
    int calls = 0;
    bool foreign = false;
    const bool finished = pool.run(
        1000,
        [&](size_t) {
          ran.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        },
        [&] {
          foreign |= std::this_thread::get_id() != caller;
          return ++calls < 3;
        });
    EXPECT_FALSE(finished) << "a stopped run reports it";
    EXPECT_FALSE(foreign) << "monitor ran on a worker";
    EXPECT_LT(ran.load(), 500) << "tasks kept running after the stop (" << threads << " threads)";
  }
}

TEST(ThreadPoolTest, AThrowingMonitorWaitsForStartedTasksBeforeRethrowing) {
  ThreadPool pool(2);
  std::atomic<int> running{0};
  int calls = 0;
  EXPECT_THROW(pool.run(
                   200,
                   [&](size_t) {
                     running.fetch_add(1);
                     std::this_thread::sleep_for(std::chrono::milliseconds(2));
                     running.fetch_sub(1);
                   },
                   [&] {
                     if (++calls == 2) throw std::runtime_error("host callback failed");
                     return true;
                   }),
               std::runtime_error);
  // `body` captures this frame: no task may still be running once run() has returned.
  EXPECT_EQ(running.load(), 0) << "run() returned while a worker was inside a task";
}

TEST(ThreadPoolTest, ConcurrentCallersAllFinish) {
  ThreadPool pool(3);
  constexpr int kCallers = 6;
  std::vector<std::thread> callers;
  std::vector<std::atomic<long>> sums(kCallers);
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round) {
        pool.run(
            37, [&](size_t i) { sums[c].fetch_add(static_cast<long>(i)); }, kAlways);
      }
    });
  }
  for (auto& t : callers) t.join();
  for (int c = 0; c < kCallers; ++c) EXPECT_EQ(sums[c].load(), 20L * (36 * 37 / 2)) << c;
}

TEST(ThreadPoolTest, AvailableCpusIsPositive) {
  EXPECT_GE(ThreadPool::available_cpus(), 1u);
}

}  // namespace
}  // namespace sealhost::compute_cpu
