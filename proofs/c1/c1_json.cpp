#include "proofs/c1/c1_json.hpp"

#include <nlohmann/json.hpp>

#include "proofs/merkle/tree_store.hpp"

namespace sealhost::proofs::c1 {
namespace {

using Json = nlohmann::ordered_json;
using merkle::PathLevel;
using merkle::TreeShape;

std::string size_name(uint64_t bytes) {
  switch (bytes) {
    case 2048:
      return "2KiB";
    case 8ULL << 20:
      return "8MiB";
    case 512ULL << 20:
      return "512MiB";
    case 32ULL << 30:
      return "32GiB";
    case 64ULL << 30:
      return "64GiB";
    default:
      throw C1Error("c1 json: sector size " + std::to_string(bytes) +
                    " has no registered proof (2KiB, 8MiB, 512MiB, 32GiB or 64GiB)");
  }
}

Json bytes_json(const Node& n) {
  Json a = Json::array();
  for (uint8_t b : n) a.push_back(b);
  return a;
}

Json path_json(std::span<const PathLevel> levels) {
  Json path = Json::array();
  for (const auto& l : levels) {
    Json hashes = Json::array();
    for (const auto& s : l.siblings) hashes.push_back(bytes_json(s));
    path.push_back(Json{{"hashes", std::move(hashes)}, {"index", l.position}});
  }
  return Json{{"path", std::move(path)}};
}

size_t base_levels(const TreeShape& s) {
  return merkle::row_count(s.base_leaves, s.base_arity) - 1;
}

Json merkle_json(const InclusionProof& p, const TreeShape& s) {
  const size_t base = base_levels(s);
  const size_t levels = base + (s.sub_arity ? 1 : 0) + (s.top_arity ? 1 : 0);
  if (p.path.size() != levels) {
    throw C1Error("c1 json: merkle path of " + std::to_string(p.path.size()) +
                  " levels, expected " + std::to_string(levels));
  }
  const std::span<const PathLevel> all(p.path);
  Json inner;
  if (s.sub_arity == 0) {
    inner =
        Json{{"root", bytes_json(p.root)}, {"leaf", bytes_json(p.leaf)}, {"path", path_json(all)}};
    return Json{{"data", Json{{"Single", std::move(inner)}}}};
  }
  inner["base_proof"] = path_json(all.first(base));
  inner["sub_proof"] = path_json(all.subspan(base, 1));
  if (s.top_arity != 0) inner["top_proof"] = path_json(all.subspan(base + 1, 1));
  inner["root"] = bytes_json(p.root);
  inner["leaf"] = bytes_json(p.leaf);
  return Json{{"data", Json{{s.top_arity != 0 ? "Top" : "Sub", std::move(inner)}}}};
}

Json column_json(const ColumnProof& c, const TreeShape& s) {
  Json rows = Json::array();
  for (const auto& r : c.rows) rows.push_back(bytes_json(r));
  return Json{{"column", Json{{"index", c.index}, {"rows", std::move(rows)}, {"_h", nullptr}}},
              {"inclusion_proof", merkle_json(c.inclusion_proof, s)}};
}

Json labeling_json(const LabelingProof& l) {
  Json parents = Json::array();
  for (const auto& p : l.parents) parents.push_back(bytes_json(p));
  return Json{{"parents", std::move(parents)}, {"layer_index", l.layer_index}, {"node", l.node}};
}

// ---- parsing ----

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw C1Error("c1 json: " + where + ": " + what);
}

const Json& field(const Json& j, const char* key, const std::string& where) {
  if (!j.is_object()) bad(where, "expected an object");
  auto it = j.find(key);
  if (it == j.end()) bad(where, std::string("missing \"") + key + "\"");
  return *it;
}

const Json& array_of(const Json& j, const std::string& where) {
  if (!j.is_array()) bad(where, "expected an array");
  return j;
}

uint64_t number(const Json& j, const std::string& where) {
  if (!j.is_number_unsigned()) bad(where, "expected an unsigned integer");
  return j.get<uint64_t>();
}

Node node_from(const Json& j, const std::string& where) {
  const auto& a = array_of(j, where);
  if (a.size() != 32) bad(where, "expected 32 bytes");
  Node n{};
  for (size_t i = 0; i < 32; ++i) {
    const uint64_t v = number(a[i], where);
    if (v > 255) bad(where, "byte out of range");
    n[i] = static_cast<uint8_t>(v);
  }
  return n;
}

void path_from(const Json& j, size_t arity, size_t levels, const std::string& where,
               std::vector<PathLevel>& out) {
  const auto& p = array_of(field(j, "path", where), where + ".path");
  if (p.size() != levels)
    bad(where,
        "path of " + std::to_string(p.size()) + " levels, expected " + std::to_string(levels));
  for (size_t i = 0; i < p.size(); ++i) {
    const std::string w = where + ".path[" + std::to_string(i) + "]";
    PathLevel l;
    const auto& h = array_of(field(p[i], "hashes", w), w + ".hashes");
    if (h.size() != arity - 1) bad(w, "wrong number of hashes for arity " + std::to_string(arity));
    for (const auto& x : h) l.siblings.push_back(node_from(x, w + ".hashes"));
    const uint64_t index = number(field(p[i], "index", w), w + ".index");
    if (index >= arity) bad(w, "index out of range");
    l.position = static_cast<uint32_t>(index);
    out.push_back(std::move(l));
  }
}

InclusionProof merkle_from(const Json& j, const TreeShape& s, const std::string& where) {
  const auto& data = field(j, "data", where);
  const char* variant = s.sub_arity == 0 ? "Single" : (s.top_arity == 0 ? "Sub" : "Top");
  const auto& inner = field(data, variant, where + ".data");
  const std::string w = where + ".data." + variant;
  InclusionProof p;
  p.root = node_from(field(inner, "root", w), w + ".root");
  p.leaf = node_from(field(inner, "leaf", w), w + ".leaf");
  const size_t base = base_levels(s);
  if (s.sub_arity == 0) {
    path_from(field(inner, "path", w), s.base_arity, base, w + ".path", p.path);
    return p;
  }
  path_from(field(inner, "base_proof", w), s.base_arity, base, w + ".base_proof", p.path);
  path_from(field(inner, "sub_proof", w), s.sub_arity, 1, w + ".sub_proof", p.path);
  if (s.top_arity != 0) {
    path_from(field(inner, "top_proof", w), s.top_arity, 1, w + ".top_proof", p.path);
  }
  return p;
}

ColumnProof column_from(const Json& j, const TreeShape& s, uint32_t layers, const std::string& w) {
  ColumnProof c;
  const auto& col = field(j, "column", w);
  c.index = number(field(col, "index", w + ".column"), w + ".column.index");
  const auto& rows = array_of(field(col, "rows", w + ".column"), w + ".column.rows");
  if (rows.size() != layers)
    bad(w + ".column.rows", "expected " + std::to_string(layers) + " rows");
  for (const auto& r : rows) c.rows.push_back(node_from(r, w + ".column.rows"));
  c.inclusion_proof = merkle_from(field(j, "inclusion_proof", w), s, w + ".inclusion_proof");
  return c;
}

LabelingProof labeling_from(const Json& j, const std::string& w) {
  LabelingProof l;
  const auto& parents = array_of(field(j, "parents", w), w + ".parents");
  if (parents.size() != kLabelParents) bad(w + ".parents", "expected 37 parents");
  for (const auto& p : parents) l.parents.push_back(node_from(p, w + ".parents"));
  const uint64_t layer = number(field(j, "layer_index", w), w + ".layer_index");
  if (layer > 0xffffffffULL) bad(w, "layer_index out of range");
  l.layer_index = static_cast<uint32_t>(layer);
  l.node = number(field(j, "node", w), w + ".node");
  return l;
}

}  // namespace

std::string c1_output_to_json(const PoRepParams& params, const std::string& registered_proof,
                              const Bytes32& ticket, const C1Output& output) {
  const TreeShape shape = TreeShape::for_sector(params.sector_bytes);
  const TreeShape shape_d = TreeShape::tree_d(params.sector_bytes);
  const std::string size = size_name(params.sector_bytes);
  if (registered_proof.rfind("StackedDrg" + size + "V1_1", 0) != 0) {
    throw C1Error("c1 json: registered proof \"" + registered_proof + "\" is not a " + size +
                  " V1_1 / Synthetic PoRep proof");
  }
  Json partitions = Json::array();
  for (const auto& part : output.partitions) {
    Json proofs = Json::array();
    for (const auto& p : part) {
      Json drg = Json::array(), exp = Json::array(), labels = Json::array();
      for (const auto& c : p.drg_parents) drg.push_back(column_json(c, shape));
      for (const auto& c : p.exp_parents) exp.push_back(column_json(c, shape));
      for (const auto& l : p.labeling_proofs) labels.push_back(labeling_json(l));
      Json proof;
      proof["comm_d_proofs"] = merkle_json(p.comm_d_proof, shape_d);
      proof["comm_r_last_proof"] = merkle_json(p.comm_r_last_proof, shape);
      proof["replica_column_proofs"] = Json{{"c_x", column_json(p.c_x, shape)},
                                            {"drg_parents", std::move(drg)},
                                            {"exp_parents", std::move(exp)}};
      proof["labeling_proofs"] = std::move(labels);
      proof["encoding_proof"] = labeling_json(p.encoding_proof);
      proofs.push_back(std::move(proof));
    }
    partitions.push_back(std::move(proofs));
  }
  Json out;
  out["registered_proof"] = registered_proof;
  out["vanilla_proofs"] = Json{{"StackedDrg" + size + "V1", std::move(partitions)}};
  out["comm_r"] = bytes_json(output.inputs.comm_r);
  out["comm_d"] = bytes_json(output.inputs.comm_d);
  out["replica_id"] = bytes_json(output.inputs.replica_id);
  out["seed"] = bytes_json(output.inputs.seed);
  out["ticket"] = bytes_json(ticket);
  return out.dump();
}

C1Json c1_output_from_json(const PoRepParams& params, std::string_view text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const std::exception& e) {
    throw C1Error(std::string("c1 json: not valid JSON (") + e.what() + ")");
  }
  const TreeShape shape = TreeShape::for_sector(params.sector_bytes);
  const TreeShape shape_d = TreeShape::tree_d(params.sector_bytes);
  const std::string size = size_name(params.sector_bytes);
  C1Json r;
  const auto& rp = field(j, "registered_proof", "$");
  if (!rp.is_string()) bad("$.registered_proof", "expected a string");
  r.registered_proof = rp.get<std::string>();
  if (r.registered_proof.rfind("StackedDrg" + size + "V1_1", 0) != 0) {
    bad("$.registered_proof", "\"" + r.registered_proof + "\" is not a " + size + " V1_1 proof");
  }
  const std::string variant = "StackedDrg" + size + "V1";
  const auto& parts =
      array_of(field(field(j, "vanilla_proofs", "$"), variant.c_str(), "$.vanilla_proofs"),
               "$.vanilla_proofs." + variant);
  for (size_t k = 0; k < parts.size(); ++k) {
    const std::string wk = "$.vanilla_proofs[" + std::to_string(k) + "]";
    std::vector<ChallengeProof> proofs;
    for (size_t i = 0; i < array_of(parts[k], wk).size(); ++i) {
      const std::string w = wk + "[" + std::to_string(i) + "]";
      const auto& pj = parts[k][i];
      ChallengeProof p;
      p.comm_d_proof = merkle_from(field(pj, "comm_d_proofs", w), shape_d, w + ".comm_d_proofs");
      p.comm_r_last_proof =
          merkle_from(field(pj, "comm_r_last_proof", w), shape, w + ".comm_r_last_proof");
      const auto& rcp = field(pj, "replica_column_proofs", w);
      const std::string wr = w + ".replica_column_proofs";
      p.c_x = column_from(field(rcp, "c_x", wr), shape, params.layers, wr + ".c_x");
      for (const auto& c : array_of(field(rcp, "drg_parents", wr), wr + ".drg_parents")) {
        p.drg_parents.push_back(column_from(c, shape, params.layers, wr + ".drg_parents"));
      }
      for (const auto& c : array_of(field(rcp, "exp_parents", wr), wr + ".exp_parents")) {
        p.exp_parents.push_back(column_from(c, shape, params.layers, wr + ".exp_parents"));
      }
      for (const auto& l : array_of(field(pj, "labeling_proofs", w), w + ".labeling_proofs")) {
        p.labeling_proofs.push_back(labeling_from(l, w + ".labeling_proofs"));
      }
      p.encoding_proof = labeling_from(field(pj, "encoding_proof", w), w + ".encoding_proof");
      proofs.push_back(std::move(p));
    }
    r.output.partitions.push_back(std::move(proofs));
  }
  r.output.inputs.comm_r = node_from(field(j, "comm_r", "$"), "$.comm_r");
  r.output.inputs.comm_d = node_from(field(j, "comm_d", "$"), "$.comm_d");
  r.output.inputs.replica_id = node_from(field(j, "replica_id", "$"), "$.replica_id");
  r.output.inputs.seed = node_from(field(j, "seed", "$"), "$.seed");
  r.ticket = node_from(field(j, "ticket", "$"), "$.ticket");
  return r;
}

}  // namespace sealhost::proofs::c1
