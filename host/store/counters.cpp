#include "host/store/counters.hpp"

#include <limits>
#include <string>

#include "host/store/keys.hpp"

namespace sealhost::store {

Result<std::uint64_t> peek_counter(const Txn& txn, std::string_view name, std::uint64_t first) {
  auto value = txn.get(Db::kCounters, name);
  if (value.status().is_not_found()) return first;
  if (!value) return value.status();
  const auto n = parse_key_u64(*value);
  if (!n) {
    return Status::corruption(describe(Db::kCounters, name) + ": value is " +
                              std::to_string(value->size()) +
                              " bytes, not 8 (restore the datastore from a backup)");
  }
  return *n;
}

Result<std::uint64_t> next_counter(WriteTxn& txn, std::string_view name, std::uint64_t first) {
  auto current = peek_counter(txn, name, first);
  if (!current) return current;
  if (*current == std::numeric_limits<std::uint64_t>::max()) {
    return Status::resource_exhausted(describe(Db::kCounters, name) + ": counter exhausted");
  }
  if (auto s = txn.put(Db::kCounters, name, key_u64(*current + 1)); !s) return s;
  return current;
}

}  // namespace sealhost::store
