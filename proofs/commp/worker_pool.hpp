// A minimal fork-join pool: run(n, fn) executes fn(0..n-1) on the helper threads and the calling
// thread and returns when all are done. Threads persist for the pool's lifetime so per-batch
// hand-off costs a wake-up, not a thread creation.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sealhost::proofs::commp::detail {

class WorkerPool {
 public:
  explicit WorkerPool(unsigned helpers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Not re-entrant; `fn` must not throw.
  void run(size_t n, const std::function<void(size_t)>& fn);

 private:
  void helper_loop();
  void drain();

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(size_t)>* job_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  uint64_t generation_ = 0;
  unsigned busy_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sealhost::proofs::commp::detail
