// Append-only event logs: one ordered stream of values per owner (a sector, by default), keyed by
// owner (u64 BE) + sequence (u64 BE) so a prefix scan returns one owner's events in order.
// Sequences start at 0 and are dense per stream. There is deliberately no update call.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "host/store/env.hpp"
#include "host/store/record.hpp"
#include "host/store/status.hpp"

namespace sealhost::store {

// Appends `value` to `stream`'s log and returns its sequence number.
Result<std::uint64_t> append_event(WriteTxn& txn, std::uint64_t stream, std::string_view value,
                                   Db db = Db::kSectorEvents);

// Same, storing a versioned record (see record.hpp).
Result<std::uint64_t> append_event_record(WriteTxn& txn, std::uint64_t stream,
                                          const nlohmann::json& data, std::string_view kind,
                                          std::uint32_t version, Db db = Db::kSectorEvents);

// Sequence the next append would get (0 for an empty stream).
Result<std::uint64_t> next_event_sequence(const Txn& txn, std::uint64_t stream,
                                          Db db = Db::kSectorEvents);

// Calls fn(sequence, value) for `stream`'s events in order until fn returns false.
Status for_each_event(const Txn& txn, std::uint64_t stream,
                      const std::function<bool(std::uint64_t seq, std::string_view value)>& fn,
                      Db db = Db::kSectorEvents);

}  // namespace sealhost::store
