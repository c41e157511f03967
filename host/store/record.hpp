// Versioned records: JSON documents wrapped in an envelope that names their kind and schema
// version, so a reader can refuse data written by a newer sealhost instead of misreading it.
//
// Stored value (compact JSON text, UTF-8):  {"v":<version>,"kind":"<kind>","data":<document>}
//
// Rules (see README.md): versions start at 1 and only go up; a reader states the newest version
// it understands and gets kVersionTooNew for anything newer; older versions are returned with
// their version so the caller can upgrade them; a kind other than the expected one, or a value
// that is not a valid envelope, is kCorruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "host/store/env.hpp"
#include "host/store/status.hpp"

namespace sealhost::store {

struct Record {
  std::uint32_t version = 0;
  nlohmann::json data;
};

// Builds the stored bytes of an envelope. kInvalidArgument for an empty kind, version 0, or data
// that cannot be serialised (e.g. strings that are not UTF-8).
Result<std::string> encode_record(const nlohmann::json& data, std::string_view kind,
                                  std::uint32_t version);

// Parses stored bytes; `where` names the record in messages ("sectors/42").
Result<Record> decode_record(std::string_view where, std::string_view value, std::string_view kind,
                             std::uint32_t max_version);

Status put_record(WriteTxn& txn, Db db, std::string_view key, const nlohmann::json& data,
                  std::string_view kind, std::uint32_t version, PutMode mode = PutMode::kUpsert);

// kNotFound if absent; see the rules above for the other errors.
Result<Record> get_record(const Txn& txn, Db db, std::string_view key, std::string_view kind,
                          std::uint32_t max_version);

}  // namespace sealhost::store
