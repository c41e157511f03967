#include "plugins/stage/pc2/pc2_record.hpp"

#include <nlohmann/json.hpp>
#include <sealhost/sdk/error.hpp>

#include <initializer_list>
#include <string>

namespace sealhost::stage_pc2 {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw sdk::invalid_argument("pc2 record: " + where + ": " + what);
}

const Json& member(const Json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) bad(where, std::string("missing key \"") + key + "\"");
  return *it;
}

void only_keys(const Json& obj, std::initializer_list<const char*> allowed,
               const std::string& where) {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) bad(where, "unknown key \"" + key + "\" (check the spelling; see docs/stages.md)");
  }
}

const Json& object(const Json& j, const std::string& where) {
  if (!j.is_object()) bad(where, "expected an object, got " + std::string(j.type_name()));
  return j;
}

uint64_t u64(const Json& obj, const char* key, const std::string& where) {
  const Json& v = member(obj, key, where);
  if (!v.is_number_unsigned()) {
    bad(where + "." + key, "expected a non-negative integer, got " + v.dump());
  }
  return v.get<uint64_t>();
}

std::string text(const Json& obj, const char* key, const std::string& where) {
  const Json& v = member(obj, key, where);
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    bad(where + "." + key, "expected a non-empty string, got " + v.dump());
  }
  return v.get<std::string>();
}

Bytes32 hex32(const Json& obj, const char* key, const std::string& where) {
  const std::string s = text(obj, key, where);
  auto b = from_hex(s);
  if (!b) bad(where + "." + key, "expected 64 hex digits (32 bytes), got \"" + s + "\"");
  return *b;
}

std::vector<std::string> texts(const Json& obj, const char* key, const std::string& where) {
  const Json& v = member(obj, key, where);
  if (!v.is_array() || v.empty()) bad(where + "." + key, "expected a non-empty array of paths");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) bad(where + "." + key, "expected strings, got " + e.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

Json parse_json(std::string_view json, const char* what) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw sdk::invalid_argument(std::string("pc2 ") + what +
                                ": not valid JSON (send one JSON object, see docs/stages.md)");
  }
  if (!j.is_object()) bad(what, "expected a JSON object");
  const Json& v = member(j, "v", what);
  if (!v.is_number_integer() || v.get<int64_t>() != kRecordVersion) {
    bad(what, "record version " + v.dump() + " is not supported (this plugin reads v" +
                  std::to_string(kRecordVersion) + "; upgrade the plugin or the host)");
  }
  return j;
}

}  // namespace

std::string to_hex(const Bytes32& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t x : b) {
    s += d[x >> 4];
    s += d[x & 15];
  }
  return s;
}

std::optional<Bytes32> from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes32 b{};
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    b[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return b;
}

Pc2Input parse_input(std::string_view json) {
  const Json j = parse_json(json, "input");
  only_keys(
      j,
      {"v", "sector", "proof", "cache_dir", "unsealed_path", "sealed_path", "comm_d", "replica_id"},
      "input");
  Pc2Input in;
  const Json& s = object(member(j, "sector", "input"), "sector");
  only_keys(s, {"miner", "number", "size"}, "sector");
  in.sector = {u64(s, "miner", "sector"), u64(s, "number", "sector"), u64(s, "size", "sector")};
  in.proof = text(j, "proof", "input");
  in.cache_dir = text(j, "cache_dir", "input");
  in.unsealed_path = text(j, "unsealed_path", "input");
  in.sealed_path = text(j, "sealed_path", "input");
  in.comm_d = hex32(j, "comm_d", "input");
  if (j.contains("replica_id")) in.replica_id = hex32(j, "replica_id", "input");
  return in;
}

std::string format_input(const Pc2Input& in) {
  Json j;
  j["v"] = kRecordVersion;
  j["sector"] = {
      {"miner", in.sector.miner}, {"number", in.sector.number}, {"size", in.sector.size}};
  j["proof"] = in.proof;
  j["cache_dir"] = in.cache_dir;
  j["unsealed_path"] = in.unsealed_path;
  j["sealed_path"] = in.sealed_path;
  j["comm_d"] = to_hex(in.comm_d);
  if (in.replica_id) j["replica_id"] = to_hex(*in.replica_id);
  return j.dump();
}

std::string format_output(const Pc2Output& out) {
  Json j;
  j["v"] = kRecordVersion;
  j["comm_c"] = to_hex(out.comm_c);
  j["comm_r_last"] = to_hex(out.comm_r_last);
  j["comm_r"] = to_hex(out.comm_r);
  j["comm_d"] = to_hex(out.comm_d);
  j["sealed_cid"] = out.sealed_cid;
  j["sealed_path"] = out.sealed_path;
  j["tree_c_paths"] = out.tree_c_paths;
  j["tree_r_last_paths"] = out.tree_r_last_paths;
  j["p_aux_path"] = out.p_aux_path;
  j["t_aux_path"] = out.t_aux_path;
  j["compute"] = out.compute;
  return j.dump();
}

Pc2Output parse_output(std::string_view json) {
  const Json j = parse_json(json, "output");
  only_keys(j,
            {"v", "comm_c", "comm_r_last", "comm_r", "comm_d", "sealed_cid", "sealed_path",
             "tree_c_paths", "tree_r_last_paths", "p_aux_path", "t_aux_path", "compute"},
            "output");
  Pc2Output out;
  out.comm_c = hex32(j, "comm_c", "output");
  out.comm_r_last = hex32(j, "comm_r_last", "output");
  out.comm_r = hex32(j, "comm_r", "output");
  out.comm_d = hex32(j, "comm_d", "output");
  out.sealed_cid = text(j, "sealed_cid", "output");
  out.sealed_path = text(j, "sealed_path", "output");
  out.tree_c_paths = texts(j, "tree_c_paths", "output");
  out.tree_r_last_paths = texts(j, "tree_r_last_paths", "output");
  out.p_aux_path = text(j, "p_aux_path", "output");
  out.t_aux_path = text(j, "t_aux_path", "output");
  out.compute = text(j, "compute", "output");
  return out;
}

}  // namespace sealhost::stage_pc2
