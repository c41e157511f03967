#include "host/store/record.hpp"

#include "host/store/keys.hpp"

namespace sealhost::store {

Result<std::string> encode_record(const nlohmann::json& data, std::string_view kind,
                                  std::uint32_t version) {
  if (kind.empty()) return Status::invalid_argument("record: empty kind (name the record type)");
  if (version == 0) {
    return Status::invalid_argument("record of kind " + std::string(kind) +
                                    ": version 0 (schema versions start at 1)");
  }
  nlohmann::json envelope = {{"v", version}, {"kind", kind}, {"data", data}};
  try {
    return envelope.dump();
  } catch (const nlohmann::json::exception& e) {
    return Status::invalid_argument("record of kind " + std::string(kind) + ": cannot serialise: " +
                                    e.what() + " (strings must be valid UTF-8)");
  }
}

Result<Record> decode_record(std::string_view where, std::string_view value, std::string_view kind,
                             std::uint32_t max_version) {
  const std::string at(where);
  const std::string damaged = " (the datastore is damaged; restore it from a backup)";
  nlohmann::json envelope = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded() || !envelope.is_object()) {
    return Status::corruption(at + ": record is not a JSON object" + damaged);
  }
  auto v = envelope.find("v");
  auto k = envelope.find("kind");
  auto d = envelope.find("data");
  if (v == envelope.end() || !v->is_number_unsigned() || k == envelope.end() || !k->is_string() ||
      d == envelope.end()) {
    return Status::corruption(at + ": record lacks its envelope (v, kind, data)" + damaged);
  }
  const std::uint64_t version = v->get<std::uint64_t>();
  if (version == 0 || version > UINT32_MAX) {
    return Status::corruption(at + ": record version " + std::to_string(version) +
                              " is out of range" + damaged);
  }
  if (k->get_ref<const std::string&>() != kind) {
    return Status::corruption(at + ": record kind '" + k->get<std::string>() + "' where '" +
                              std::string(kind) + "' was expected" + damaged);
  }
  if (version > max_version) {
    return Status::version_too_new(at + ": record version " + std::to_string(version) +
                                   " is newer than this sealhost understands (" +
                                   std::to_string(max_version) + "): upgrade sealhost");
  }
  return Record{static_cast<std::uint32_t>(version), std::move(*d)};
}

Status put_record(WriteTxn& txn, Db db, std::string_view key, const nlohmann::json& data,
                  std::string_view kind, std::uint32_t version, PutMode mode) {
  auto bytes = encode_record(data, kind, version);
  if (!bytes) {
    return Status(bytes.status().code(), describe(db, key) + ": " + bytes.status().message());
  }
  return txn.put(db, key, *bytes, mode);
}

Result<Record> get_record(const Txn& txn, Db db, std::string_view key, std::string_view kind,
                          std::uint32_t max_version) {
  auto value = txn.get(db, key);
  if (!value) return value.status();
  return decode_record(describe(db, key), *value, kind, max_version);
}

}  // namespace sealhost::store
