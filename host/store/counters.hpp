// Named monotonic counters (e.g. the next sector number) in Db::kCounters. A counter's value is
// stored as 8 bytes big-endian and is the next number to hand out. Taking a number is part of the
// caller's write transaction, so it is atomic with whatever the number is used for: if the
// transaction aborts, the number is handed out again.
#pragma once

#include <cstdint>
#include <string_view>

#include "host/store/env.hpp"
#include "host/store/status.hpp"

namespace sealhost::store {

// Returns the counter's next value (`first` if it was never used) and advances it by one.
Result<std::uint64_t> next_counter(WriteTxn& txn, std::string_view name, std::uint64_t first = 0);

// The value next_counter would return, without advancing.
Result<std::uint64_t> peek_counter(const Txn& txn, std::string_view name, std::uint64_t first = 0);

}  // namespace sealhost::store
