#include "host/store/txn_gate.hpp"

namespace sealhost::store {

std::thread::id TxnGate::enter() {
  const auto self = std::this_thread::get_id();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    if (exclusive_held_) return false;
    if (!exclusive_pending_) return true;
    auto it = holders_.find(self);
    return it != holders_.end() && it->second > 0;
  });
  ++active_;
  ++holders_[self];
  return self;
}

void TxnGate::leave(std::thread::id owner) {
  std::lock_guard lock(mu_);
  auto it = holders_.find(owner);
  if (it != holders_.end() && --it->second == 0) holders_.erase(it);
  --active_;
  if (active_ == 0) cv_.notify_all();
}

bool TxnGate::lock_exclusive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  // Only one resize at a time; the second one usually finds the work already done.
  if (!cv_.wait_until(lock, deadline, [&] { return !exclusive_pending_ && !exclusive_held_; })) {
    return false;
  }
  exclusive_pending_ = true;
  const bool drained = cv_.wait_until(lock, deadline, [&] { return active_ == 0; });
  exclusive_pending_ = false;
  if (!drained) {
    cv_.notify_all();
    return false;
  }
  exclusive_held_ = true;
  return true;
}

void TxnGate::unlock_exclusive() {
  std::lock_guard lock(mu_);
  exclusive_held_ = false;
  cv_.notify_all();
}

std::size_t TxnGate::active() const {
  std::lock_guard lock(mu_);
  return active_;
}

}  // namespace sealhost::store
