#include "plugins/stage/addpiece/add_piece_record.hpp"

#include <nlohmann/json.hpp>
#include <sealhost/sdk/error.hpp>

#include <initializer_list>
#include <string>

namespace sealhost::stage_addpiece {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw sdk::invalid_argument("addpiece record: " + where + ": " + what);
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

bool boolean(const Json& obj, const char* key, const std::string& where) {
  const Json& v = member(obj, key, where);
  if (!v.is_boolean()) bad(where + "." + key, "expected true or false, got " + v.dump());
  return v.get<bool>();
}

Json parse_json(std::string_view json, const char* what) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    throw sdk::invalid_argument(std::string("addpiece ") + what +
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

NewPiece parse_piece(const Json& j) {
  const std::string where = "piece";
  object(j, where);
  NewPiece p;
  if (j.contains("zero")) {
    only_keys(j, {"zero", "size"}, where);
    if (!boolean(j, "zero", where)) bad(where + ".zero", "must be true when present");
    p.zero = true;
    p.size = u64(j, "size", where);
    return p;
  }
  if (!j.contains("path")) {
    bad(where, R"(give either {"path":...} for a payload file or {"zero":true,"size":...})");
  }
  only_keys(j, {"path", "size", "cid"}, where);
  p.path = text(j, "path", where);
  if (j.contains("size")) p.size = u64(j, "size", where);
  if (j.contains("cid")) p.cid = text(j, "cid", where);
  return p;
}

}  // namespace

AddPieceInput parse_input(std::string_view json) {
  const Json j = parse_json(json, "input");
  only_keys(j, {"v", "sector", "unsealed_path", "existing_pieces", "piece"}, "input");
  AddPieceInput in;
  const Json& s = object(member(j, "sector", "input"), "sector");
  only_keys(s, {"miner", "number", "size"}, "sector");
  in.sector = {u64(s, "miner", "sector"), u64(s, "number", "sector"), u64(s, "size", "sector")};
  in.unsealed_path = text(j, "unsealed_path", "input");
  if (j.contains("existing_pieces")) {
    const Json& list = j["existing_pieces"];
    if (!list.is_array()) bad("existing_pieces", "expected an array, got " + list.dump());
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = "existing_pieces[" + std::to_string(i) + "]";
      const Json& e = object(list[i], where);
      only_keys(e, {"size", "cid"}, where);
      in.existing_pieces.push_back({u64(e, "size", where), text(e, "cid", where)});
    }
  }
  in.piece = parse_piece(member(j, "piece", "input"));
  return in;
}

std::string format_input(const AddPieceInput& in) {
  Json j;
  j["v"] = kRecordVersion;
  j["sector"] = {
      {"miner", in.sector.miner}, {"number", in.sector.number}, {"size", in.sector.size}};
  j["unsealed_path"] = in.unsealed_path;
  j["existing_pieces"] = Json::array();
  for (const auto& e : in.existing_pieces) {
    j["existing_pieces"].push_back({{"size", e.size}, {"cid", e.cid}});
  }
  Json p = Json::object();
  if (in.piece.zero) {
    p["zero"] = true;
    p["size"] = in.piece.size;
  } else {
    p["path"] = in.piece.path;
    if (in.piece.size != 0) p["size"] = in.piece.size;
    if (in.piece.cid) p["cid"] = *in.piece.cid;
  }
  j["piece"] = std::move(p);
  return j.dump();
}

std::string format_output(const AddPieceOutput& out) {
  Json j;
  j["v"] = kRecordVersion;
  j["pieces"] = Json::array();
  for (const auto& p : out.pieces) {
    j["pieces"].push_back({{"size", p.size}, {"cid", p.cid}, {"padding", p.padding}});
  }
  j["payload_size"] = out.payload_size;
  j["unsealed_size"] = out.unsealed_size;
  return j.dump();
}

AddPieceOutput parse_output(std::string_view json) {
  const Json j = parse_json(json, "output");
  only_keys(j, {"v", "pieces", "payload_size", "unsealed_size"}, "output");
  AddPieceOutput out;
  const Json& list = member(j, "pieces", "output");
  if (!list.is_array() || list.empty()) bad("pieces", "expected a non-empty array");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "pieces[" + std::to_string(i) + "]";
    const Json& p = object(list[i], where);
    only_keys(p, {"size", "cid", "padding"}, where);
    out.pieces.push_back(
        {u64(p, "size", where), text(p, "cid", where), boolean(p, "padding", where)});
  }
  out.payload_size = u64(j, "payload_size", "output");
  out.unsealed_size = u64(j, "unsealed_size", "output");
  return out;
}

}  // namespace sealhost::stage_addpiece
