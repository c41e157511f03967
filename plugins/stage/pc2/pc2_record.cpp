#include "plugins/stage/pc2/pc2_record.hpp"

#include <string>
#include <vector>

namespace sealhost::stage_pc2 {
namespace {

using stage::Json;

// Every message reads "pc2 record: <where>: <what>".
const stage::RecordReader kRecord("pc2 record");

std::vector<std::string> texts(const Json& obj, const char* key, const std::string& where) {
  const Json& v = kRecord.member(obj, key, where);
  if (!v.is_array() || v.empty()) {
    kRecord.bad(where + "." + key, "expected a non-empty array of paths");
  }
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) kRecord.bad(where + "." + key, "expected strings, got " + e.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

std::string to_hex(const Bytes32& b) {
  return stage::hex(b);
}

std::optional<Bytes32> from_hex(std::string_view hex) {
  // Strict: exactly 64 hex digits, no "0x" (stage::parse_hex32 also accepts the prefix).
  if (hex.size() != 64) return std::nullopt;
  return stage::parse_hex32(hex);
}

Pc2Input parse_input(std::string_view json) {
  const Json j = kRecord.parse(json);
  kRecord.only_keys(
      j,
      {"v", "sector", "proof", "cache_dir", "unsealed_path", "sealed_path", "comm_d", "replica_id"},
      "input");
  Pc2Input in;
  in.sector = kRecord.sector(j);
  in.proof = kRecord.text(j, "proof", "input");
  in.cache_dir = kRecord.text(j, "cache_dir", "input");
  in.unsealed_path = kRecord.text(j, "unsealed_path", "input");
  in.sealed_path = kRecord.text(j, "sealed_path", "input");
  in.comm_d = kRecord.hex32(j, "comm_d", "input");
  if (j.contains("replica_id")) in.replica_id = kRecord.hex32(j, "replica_id", "input");
  return in;
}

std::string format_input(const Pc2Input& in) {
  Json j;
  j["v"] = kRecordVersion;
  j["sector"] = stage::sector_json(in.sector);
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
  const Json j = kRecord.parse(json);
  kRecord.only_keys(j,
                    {"v", "comm_c", "comm_r_last", "comm_r", "comm_d", "sealed_cid", "sealed_path",
                     "tree_c_paths", "tree_r_last_paths", "p_aux_path", "t_aux_path", "compute"},
                    "output");
  Pc2Output out;
  out.comm_c = kRecord.hex32(j, "comm_c", "output");
  out.comm_r_last = kRecord.hex32(j, "comm_r_last", "output");
  out.comm_r = kRecord.hex32(j, "comm_r", "output");
  out.comm_d = kRecord.hex32(j, "comm_d", "output");
  out.sealed_cid = kRecord.text(j, "sealed_cid", "output");
  out.sealed_path = kRecord.text(j, "sealed_path", "output");
  out.tree_c_paths = texts(j, "tree_c_paths", "output");
  out.tree_r_last_paths = texts(j, "tree_r_last_paths", "output");
  out.p_aux_path = kRecord.text(j, "p_aux_path", "output");
  out.t_aux_path = kRecord.text(j, "t_aux_path", "output");
  out.compute = kRecord.text(j, "compute", "output");
  return out;
}

}  // namespace sealhost::stage_pc2
