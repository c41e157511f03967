#include "plugins/compute/cpu/thread_pool.hpp"

#include <sched.h>

#include <algorithm>

namespace sealhost::compute_cpu {

// One run() call. Shared with the workers so a worker that grabbed it just as the caller
// returned still holds valid memory; `body` is only touched while tasks remain, i.e. while the
// caller is still inside run().
struct ThreadPool::TaskSet {
  size_t tasks = 0;
  const std::function<void(size_t)>* body = nullptr;
  std::atomic<size_t> next{0};       // next unclaimed index (may run past `tasks`)
  std::atomic<size_t> remaining{0};  // tasks not yet finished or skipped
  std::atomic<bool> stop{false};

  std::mutex mu;
  std::condition_variable done;
  std::exception_ptr error;  // the first exception of `body`
};

ThreadPool::ThreadPool(unsigned threads) {
  const unsigned workers = threads > 1 ? threads - 1 : 0;
  workers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

unsigned ThreadPool::available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

bool ThreadPool::work_one(TaskSet& set) {
  const size_t i = set.next.fetch_add(1, std::memory_order_relaxed);
  if (i >= set.tasks) return false;
  if (!set.stop.load(std::memory_order_relaxed)) {
    try {
      (*set.body)(i);
    } catch (...) {
      std::lock_guard lock(set.mu);
      if (!set.error) set.error = std::current_exception();
      set.stop = true;
    }
  }
  if (set.remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // Lock so the notification cannot fall between the caller's check and its wait.
    std::lock_guard lock(set.mu);
    set.done.notify_all();
  }
  return true;
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::shared_ptr<TaskSet> set;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return shutdown_ || !queue_.empty(); });
      if (shutdown_) return;
      set = queue_.front();
    }
    if (!work_one(*set)) {
      // Every task of the oldest set is claimed: retire it so workers move to the next one.
      std::lock_guard lock(mu_);
      auto it = std::find(queue_.begin(), queue_.end(), set);
      if (it != queue_.end()) queue_.erase(it);
    }
  }
}

bool ThreadPool::run(size_t tasks, const std::function<void(size_t)>& body,
                     const std::function<bool()>& monitor) {
  if (tasks == 0) return monitor();
  auto set = std::make_shared<TaskSet>();
  set->tasks = tasks;
  set->body = &body;
  set->remaining = tasks;
  bool stopped_by_monitor = false;
  std::exception_ptr monitor_error;
  // Never leaves run() by an exception while workers may still call `body`, which lives in the
  // caller's frame: a throwing monitor stops the run like a false return and is rethrown below.
  auto check = [&] {
    if (stopped_by_monitor) return;
    bool go_on = false;
    try {
      go_on = monitor();
    } catch (...) {
      monitor_error = std::current_exception();
    }
    if (!go_on) {
      stopped_by_monitor = true;
      set->stop = true;
    }
  };
  check();
  if (!workers_.empty() && tasks > 1) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(set);
    }
    wake_.notify_all();
  }
  while (work_one(*set)) check();
  {
    std::unique_lock lock(set->mu);
    while (set->remaining.load(std::memory_order_acquire) != 0) {
      set->done.wait_for(lock, kMonitorInterval);
      lock.unlock();
      check();
      lock.lock();
    }
  }
  {
    // The workers may not have retired it yet; they would only find it exhausted.
    std::lock_guard lock(mu_);
    auto it = std::find(queue_.begin(), queue_.end(), set);
    if (it != queue_.end()) queue_.erase(it);
  }
  if (set->error) std::rethrow_exception(set->error);
  if (monitor_error) std::rethrow_exception(monitor_error);
  return !stopped_by_monitor;
}

}  // namespace sealhost::compute_cpu
