// A fixed pool of hashing threads shared by every call on one compute instance.
//
// run() splits one call into numbered tasks. The calling thread works on its own call alongside
// the pool's workers (so a pool of `threads` has threads-1 workers, and threads = 1 runs
// everything on the caller with no hand-off at all). Concurrent run() calls queue their task sets
// FIFO; idle workers always serve the oldest set that still has unclaimed tasks, while every
// caller keeps working on its own set, so no call starves.
//
// Only the calling thread runs `monitor`: between its own tasks and every kMonitorInterval while
// it waits for the workers. That is where the compute component reports progress and polls the
// host's cancel flag, so the host's job callbacks are only ever called from the host's thread.
//
// Thread-safe: run() may be called from any number of threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace sealhost::compute_cpu {

class ThreadPool {
 public:
  static constexpr std::chrono::milliseconds kMonitorInterval{20};

  // `threads` >= 1 counts the caller; the pool starts threads-1 workers.
  explicit ThreadPool(unsigned threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

  // Runs body(i) once for every i in [0, tasks) and returns when all started tasks have ended.
  // `monitor` returns false to stop the call: tasks not yet started are skipped. The first
  // exception thrown by `body` also skips what has not started, and is rethrown here once every
  // started task has ended; so is an exception from `monitor` (which stops the call too).
  // Returns false when the call was stopped by `monitor`, true otherwise.
  bool run(size_t tasks, const std::function<void(size_t)>& body,
           const std::function<bool()>& monitor);

  // The number of CPUs this process may run on (its affinity mask), at least 1.
  static unsigned available_cpus();

 private:
  struct TaskSet;
  void worker_loop();
  // Claims and runs (or, once stopped, skips) one task of `set`; false when none was left.
  static bool work_one(TaskSet& set);

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<TaskSet>> queue_;  // sets with unclaimed tasks, oldest first
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace sealhost::compute_cpu
