// TxnGate: lets many transactions run at once but gives the map-resizing code a moment with none.
//
// mdb_env_set_mapsize() remaps the file, so no transaction of this process may be open while it
// runs (LMDB does not check; a reader would read unmapped memory). Every transaction therefore
// holds a ticket for its whole life, and resizing waits until the count drops to zero while new
// tickets wait. A thread that already holds a ticket is let through even while a resize is
// pending: it would otherwise deadlock against itself (its own open transaction keeps the count
// above zero), and the resize waits for its outer transaction anyway. The wait is bounded so a
// transaction kept open forever turns into an error instead of a hang.
//
// Thread-safe. Internal to host/store; public only so it can be tested on its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace sealhost::store {

class TxnGate {
 public:
  // Takes a ticket for the calling thread; returns the id to hand back to leave().
  std::thread::id enter();
  // Returns a ticket taken by `owner` (which need not be the calling thread).
  void leave(std::thread::id owner);

  // Blocks new tickets (except for threads already holding one) and waits until none is held.
  // Returns false, with nothing locked, if that takes longer than `timeout`. The caller must not
  // hold a ticket itself.
  bool lock_exclusive(std::chrono::milliseconds timeout);
  void unlock_exclusive();

  std::size_t active() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t active_ = 0;
  bool exclusive_pending_ = false;
  bool exclusive_held_ = false;
  std::unordered_map<std::thread::id, std::size_t> holders_;
};

}  // namespace sealhost::store
