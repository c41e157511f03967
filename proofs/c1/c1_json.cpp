#include "proofs/c1/c1_json.hpp"

#include <charconv>
#include <nlohmann/json.hpp>
#include <span>

#include "proofs/merkle/tree_store.hpp"
#include "proofs/sdr/seal_proof.hpp"

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

size_t base_levels(const TreeShape& s) {
  return merkle::row_count(s.base_leaves, s.base_arity) - 1;
}

// Writes the output straight into a string in serde_json's compact form (no spaces, fields in
// declaration order): the proofs are ~95% byte arrays, which a DOM would turn into one value
// per byte.
class Writer {
 public:
  std::string take() { return std::move(out_); }
  void raw(std::string_view s) { out_.append(s); }
  void number(uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
  }
  void bytes(const Node& n) {
    out_.push_back('[');
    for (size_t i = 0; i < n.size(); ++i) {
      if (i != 0) out_.push_back(',');
      const uint8_t b = n[i];
      if (b >= 100) out_.push_back(static_cast<char>('0' + b / 100));
      if (b >= 10) out_.push_back(static_cast<char>('0' + b / 10 % 10));
      out_.push_back(static_cast<char>('0' + b % 10));
    }
    out_.push_back(']');
  }
  void path(std::span<const PathLevel> levels) {
    raw("{\"path\":[");
    for (size_t i = 0; i < levels.size(); ++i) {
      if (i != 0) out_.push_back(',');
      raw("{\"hashes\":[");
      for (size_t k = 0; k < levels[i].siblings.size(); ++k) {
        if (k != 0) out_.push_back(',');
        bytes(levels[i].siblings[k]);
      }
      raw("],\"index\":");
      number(levels[i].position);
      out_.push_back('}');
    }
    raw("]}");
  }
  void merkle(const InclusionProof& p, const TreeShape& s) {
    const size_t base = base_levels(s);
    const size_t levels = base + (s.sub_arity ? 1 : 0) + (s.top_arity ? 1 : 0);
    if (p.path.size() != levels) {
      throw C1Error("c1 json: merkle path of " + std::to_string(p.path.size()) +
                    " levels, expected " + std::to_string(levels));
    }
    const std::span<const PathLevel> all(p.path);
    if (s.sub_arity == 0) {
      raw("{\"data\":{\"Single\":{\"root\":");
      bytes(p.root);
      raw(",\"leaf\":");
      bytes(p.leaf);
      raw(",\"path\":");
      path(all);
      raw("}}}");
      return;
    }
    raw(s.top_arity != 0 ? "{\"data\":{\"Top\":{\"base_proof\":"
                         : "{\"data\":{\"Sub\":{\"base_proof\":");
    path(all.first(base));
    raw(",\"sub_proof\":");
    path(all.subspan(base, 1));
    if (s.top_arity != 0) {
      raw(",\"top_proof\":");
      path(all.subspan(base + 1, 1));
    }
    raw(",\"root\":");
    bytes(p.root);
    raw(",\"leaf\":");
    bytes(p.leaf);
    raw("}}}");
  }
  void column(const ColumnProof& c, const TreeShape& s) {
    raw("{\"column\":{\"index\":");
    number(c.index);
    raw(",\"rows\":[");
    for (size_t i = 0; i < c.rows.size(); ++i) {
      if (i != 0) out_.push_back(',');
      bytes(c.rows[i]);
    }
    raw("],\"_h\":null},\"inclusion_proof\":");
    merkle(c.inclusion_proof, s);
    out_.push_back('}');
  }
  void columns(const std::vector<ColumnProof>& cs, const TreeShape& s) {
    out_.push_back('[');
    for (size_t i = 0; i < cs.size(); ++i) {
      if (i != 0) out_.push_back(',');
      column(cs[i], s);
    }
    out_.push_back(']');
  }
  void labeling(const LabelingProof& l) {
    raw("{\"parents\":[");
    for (size_t i = 0; i < l.parents.size(); ++i) {
      if (i != 0) out_.push_back(',');
      bytes(l.parents[i]);
    }
    raw("],\"layer_index\":");
    number(l.layer_index);
    raw(",\"node\":");
    number(l.node);
    out_.push_back('}');
  }
  void reserve(size_t n) { out_.reserve(n); }

 private:
  std::string out_;
};

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
  Writer w;
  size_t challenges = 0;
  for (const auto& part : output.partitions) challenges += part.size();
  // About 4 characters per byte, ~(16 paths + 15 columns + layers labelling proofs) nodes.
  w.reserve(4096 + challenges * 32 * 4 *
                       (16 * 8 * base_levels(shape) + 15 * params.layers +
                        (params.layers + 1) * kLabelParents + 64));
  w.raw("{\"registered_proof\":");
  w.raw(Json(registered_proof).dump());
  w.raw(",\"vanilla_proofs\":{\"StackedDrg" + size + "V1\":[");
  for (size_t k = 0; k < output.partitions.size(); ++k) {
    if (k != 0) w.raw(",");
    w.raw("[");
    const auto& part = output.partitions[k];
    for (size_t i = 0; i < part.size(); ++i) {
      const auto& p = part[i];
      if (i != 0) w.raw(",");
      w.raw("{\"comm_d_proofs\":");
      w.merkle(p.comm_d_proof, shape_d);
      w.raw(",\"comm_r_last_proof\":");
      w.merkle(p.comm_r_last_proof, shape);
      w.raw(",\"replica_column_proofs\":{\"c_x\":");
      w.column(p.c_x, shape);
      w.raw(",\"drg_parents\":");
      w.columns(p.drg_parents, shape);
      w.raw(",\"exp_parents\":");
      w.columns(p.exp_parents, shape);
      w.raw("},\"labeling_proofs\":[");
      for (size_t l = 0; l < p.labeling_proofs.size(); ++l) {
        if (l != 0) w.raw(",");
        w.labeling(p.labeling_proofs[l]);
      }
      w.raw("],\"encoding_proof\":");
      w.labeling(p.encoding_proof);
      w.raw("}");
    }
    w.raw("]");
  }
  w.raw("]},\"comm_r\":");
  w.bytes(output.inputs.comm_r);
  w.raw(",\"comm_d\":");
  w.bytes(output.inputs.comm_d);
  w.raw(",\"replica_id\":");
  w.bytes(output.inputs.replica_id);
  w.raw(",\"seed\":");
  w.bytes(output.inputs.seed);
  w.raw(",\"ticket\":");
  w.bytes(ticket);
  w.raw("}");
  return w.take();
}

namespace {

Json parse_json(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const std::exception& e) {
    throw C1Error(std::string("c1 json: not valid JSON (") + e.what() + ")");
  }
}

C1Json from_dom(const PoRepParams& params, const Json& j) {
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

}  // namespace

C1Json c1_output_from_json(const PoRepParams& params, std::string_view text) {
  return from_dom(params, parse_json(text));
}

C1Json c1_output_from_json(std::string_view text) {
  const Json j = parse_json(text);
  const auto& rp = field(j, "registered_proof", "$");
  if (!rp.is_string()) bad("$.registered_proof", "expected a string");
  const sdr::SealProof* proof = nullptr;
  try {
    proof = &sdr::lookup_seal_proof(rp.get<std::string>());
  } catch (const sdr::SdrError& e) {
    bad("$.registered_proof", e.what());
  }
  return from_dom(PoRepParams::for_seal_proof(*proof), j);
}

}  // namespace sealhost::proofs::c1
