#include "plugins/stage/addpiece/add_piece_record.hpp"

#include <string>

namespace sealhost::stage_addpiece {
namespace {

using stage::Json;

// Every message reads "addpiece record: <where>: <what>".
const stage::RecordReader kRecord("addpiece record");

NewPiece parse_piece(const Json& j) {
  const std::string where = "piece";
  kRecord.object(j, where);
  NewPiece p;
  if (j.contains("zero")) {
    kRecord.only_keys(j, {"zero", "size"}, where);
    if (!kRecord.boolean(j, "zero", where)) {
      kRecord.bad(where + ".zero", "must be true when present");
    }
    p.zero = true;
    p.size = kRecord.u64(j, "size", where);
    return p;
  }
  if (!j.contains("path")) {
    kRecord.bad(where,
                R"(give either {"path":...} for a payload file or {"zero":true,"size":...})");
  }
  kRecord.only_keys(j, {"path", "size", "cid"}, where);
  p.path = kRecord.text(j, "path", where);
  if (j.contains("size")) p.size = kRecord.u64(j, "size", where);
  if (j.contains("cid")) p.cid = kRecord.text(j, "cid", where);
  return p;
}

}  // namespace

AddPieceInput parse_input(std::string_view json) {
  const Json j = kRecord.parse(json);
  kRecord.only_keys(j, {"v", "sector", "unsealed_path", "existing_pieces", "piece"}, "input");
  AddPieceInput in;
  in.sector = kRecord.sector(j);
  in.unsealed_path = kRecord.text(j, "unsealed_path", "input");
  if (j.contains("existing_pieces")) {
    const Json& list = j["existing_pieces"];
    if (!list.is_array()) kRecord.bad("existing_pieces", "expected an array, got " + list.dump());
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string where = "existing_pieces[" + std::to_string(i) + "]";
      const Json& e = kRecord.object(list[i], where);
      kRecord.only_keys(e, {"size", "cid"}, where);
      in.existing_pieces.push_back({kRecord.u64(e, "size", where), kRecord.text(e, "cid", where)});
    }
  }
  in.piece = parse_piece(kRecord.member(j, "piece", "input"));
  return in;
}

std::string format_input(const AddPieceInput& in) {
  Json j;
  j["v"] = kRecordVersion;
  j["sector"] = stage::sector_json(in.sector);
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
  const Json j = kRecord.parse(json);
  kRecord.only_keys(j, {"v", "pieces", "payload_size", "unsealed_size"}, "output");
  AddPieceOutput out;
  const Json& list = kRecord.member(j, "pieces", "output");
  if (!list.is_array() || list.empty()) kRecord.bad("pieces", "expected a non-empty array");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "pieces[" + std::to_string(i) + "]";
    const Json& p = kRecord.object(list[i], where);
    kRecord.only_keys(p, {"size", "cid", "padding"}, where);
    out.pieces.push_back({kRecord.u64(p, "size", where), kRecord.text(p, "cid", where),
                          kRecord.boolean(p, "padding", where)});
  }
  out.payload_size = kRecord.u64(j, "payload_size", "output");
  out.unsealed_size = kRecord.u64(j, "unsealed_size", "output");
  return out;
}

}  // namespace sealhost::stage_addpiece
