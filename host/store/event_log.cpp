#include "host/store/event_log.hpp"

#include <limits>

#include "host/store/keys.hpp"

namespace sealhost::store {

Result<std::uint64_t> next_event_sequence(const Txn& txn, std::uint64_t stream, Db db) {
  // The last key of this stream sits just before the first key of the next one.
  Cursor c = txn.cursor(db);
  if (stream == std::numeric_limits<std::uint64_t>::max()) {
    c.last();
  } else {
    c.seek(key_u64(stream + 1));
    if (c.valid()) {
      c.prev();
    } else if (c.status()) {
      c.last();
    }
  }
  if (!c.status()) return c.status();
  if (!c.valid()) return std::uint64_t{0};
  const auto key = parse_key_u64_pair(c.key());
  if (!key || key->first != stream) {
    if (c.key().substr(0, 8) == key_u64(stream)) {
      return Status::corruption(describe(db, c.key()) +
                                ": event key is not 16 bytes (restore the datastore from a "
                                "backup)");
    }
    return std::uint64_t{0};
  }
  if (key->second == std::numeric_limits<std::uint64_t>::max()) {
    return Status::resource_exhausted(describe(db, c.key()) + ": event sequence exhausted");
  }
  return key->second + 1;
}

Result<std::uint64_t> append_event(WriteTxn& txn, std::uint64_t stream, std::string_view value,
                                   Db db) {
  auto seq = next_event_sequence(txn, stream, db);
  if (!seq) return seq;
  // Insert-only: finding the key taken means the log was written behind our back.
  if (auto s = txn.put(db, key_u64_pair(stream, *seq), value, PutMode::kInsertOnly); !s) return s;
  return seq;
}

Result<std::uint64_t> append_event_record(WriteTxn& txn, std::uint64_t stream,
                                          const nlohmann::json& data, std::string_view kind,
                                          std::uint32_t version, Db db) {
  auto bytes = encode_record(data, kind, version);
  if (!bytes) {
    return Status(bytes.status().code(),
                  describe(db, key_u64(stream)) + ": " + bytes.status().message());
  }
  return append_event(txn, stream, *bytes, db);
}

Status for_each_event(const Txn& txn, std::uint64_t stream,
                      const std::function<bool(std::uint64_t, std::string_view)>& fn, Db db) {
  Status bad;
  Status s = txn.scan(db, key_u64(stream), [&](std::string_view key, std::string_view value) {
    const auto k = parse_key_u64_pair(key);
    if (!k) {
      bad = Status::corruption(describe(db, key) +
                               ": event key is not 16 bytes (restore the datastore from a backup)");
      return false;
    }
    return fn(k->second, value);
  });
  if (!s) return s;
  return bad;
}

}  // namespace sealhost::store
