// Strict readers and writers for stage records (docs/stages.md): versioned JSON objects whose
// unknown keys are refused, so a typo can never silently change what a stage does. Every error is
// sdk::Error(INVALID_ARGUMENT) "<stage> <record>: <where>: <what>" naming the key and the fix.
#pragma once

#include <nlohmann/json.hpp>
#include <sealhost/sdk/error.hpp>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace sealhost::stage {

using Json = nlohmann::ordered_json;

inline constexpr int kRecordVersion = 1;

// The sector a record is about.
struct SectorId {
  uint64_t miner = 0;
  uint64_t number = 0;
  uint64_t size = 0;  // sector size in bytes
};

class RecordReader {
 public:
  // `what` prefixes every message, e.g. "pc1 input".
  explicit RecordReader(std::string what) : what_(std::move(what)) {}

  // Parses one JSON object with "v": kRecordVersion.
  Json parse(std::string_view json) const;

  [[noreturn]] void bad(const std::string& where, const std::string& what) const;
  const Json& member(const Json& obj, const char* key, const std::string& where) const;
  const Json* optional(const Json& obj, const char* key) const;
  void only_keys(const Json& obj, std::initializer_list<const char*> allowed,
                 const std::string& where) const;
  const Json& object(const Json& j, const std::string& where) const;
  uint64_t u64(const Json& obj, const char* key, const std::string& where) const;
  std::string text(const Json& obj, const char* key, const std::string& where) const;
  bool boolean(const Json& obj, const char* key, const std::string& where) const;
  // A hex string of exactly 32 bytes (64 hex digits, optional "0x").
  std::array<uint8_t, 32> hex32(const Json& obj, const char* key, const std::string& where) const;
  // {"miner":..,"number":..,"size":..} under key "sector".
  SectorId sector(const Json& obj) const;

 private:
  std::string what_;
};

Json sector_json(const SectorId& s);
std::string hex(const uint8_t* data, size_t n);
template <size_t N>
std::string hex(const std::array<uint8_t, N>& a) {
  return hex(a.data(), N);
}
// Parses 2*N hex digits (optional "0x"); nullopt when malformed.
std::optional<std::array<uint8_t, 32>> parse_hex32(std::string_view s);

}  // namespace sealhost::stage
