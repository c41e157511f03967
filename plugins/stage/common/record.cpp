#include "plugins/stage/common/record.hpp"

namespace sealhost::stage {

void RecordReader::bad(const std::string& where, const std::string& what) const {
  throw sdk::invalid_argument(what_ + ": " + where + ": " + what);
}

Json RecordReader::parse(std::string_view json) const {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw sdk::invalid_argument(what_ +
                                ": not valid JSON (send one JSON object, see "
                                "docs/stages.md)");
  }
  if (!j.is_object()) bad("record", "expected a JSON object");
  const Json& v = member(j, "v", "record");
  if (!v.is_number_integer() || v.get<int64_t>() != kRecordVersion) {
    bad("record", "record version " + v.dump() + " is not supported (this plugin reads v" +
                      std::to_string(kRecordVersion) + "; upgrade the plugin or the host)");
  }
  return j;
}

const Json& RecordReader::member(const Json& obj, const char* key, const std::string& where) const {
  auto it = obj.find(key);
  if (it == obj.end()) bad(where, std::string("missing key \"") + key + "\"");
  return *it;
}

const Json* RecordReader::optional(const Json& obj, const char* key) const {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

void RecordReader::only_keys(const Json& obj, std::initializer_list<const char*> allowed,
                             const std::string& where) const {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) bad(where, "unknown key \"" + key + "\" (check the spelling; see docs/stages.md)");
  }
}

const Json& RecordReader::object(const Json& j, const std::string& where) const {
  if (!j.is_object()) bad(where, "expected an object, got " + std::string(j.type_name()));
  return j;
}

uint64_t RecordReader::u64(const Json& obj, const char* key, const std::string& where) const {
  const Json& v = member(obj, key, where);
  if (!v.is_number_unsigned()) {
    bad(where + "." + key, "expected a non-negative integer, got " + v.dump());
  }
  return v.get<uint64_t>();
}

std::string RecordReader::text(const Json& obj, const char* key, const std::string& where) const {
  const Json& v = member(obj, key, where);
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    bad(where + "." + key, "expected a non-empty string, got " + v.dump());
  }
  return v.get<std::string>();
}

bool RecordReader::boolean(const Json& obj, const char* key, const std::string& where) const {
  const Json& v = member(obj, key, where);
  if (!v.is_boolean()) bad(where + "." + key, "expected true or false, got " + v.dump());
  return v.get<bool>();
}

std::array<uint8_t, 32> RecordReader::hex32(const Json& obj, const char* key,
                                            const std::string& where) const {
  const std::string s = text(obj, key, where);
  auto v = parse_hex32(s);
  if (!v) bad(where + "." + key, "expected 32 bytes as 64 hex digits, got \"" + s + "\"");
  return *v;
}

SectorId RecordReader::sector(const Json& obj) const {
  const Json& s = object(member(obj, "sector", "record"), "sector");
  only_keys(s, {"miner", "number", "size"}, "sector");
  return {u64(s, "miner", "sector"), u64(s, "number", "sector"), u64(s, "size", "sector")};
}

Json sector_json(const SectorId& s) {
  Json j = Json::object();
  j["miner"] = s.miner;
  j["number"] = s.number;
  j["size"] = s.size;
  return j;
}

std::string hex(const uint8_t* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

std::optional<std::array<uint8_t, 32>> parse_hex32(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::array<uint8_t, 32> out{};
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}

}  // namespace sealhost::stage
