#include "proofs/c1/c1.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <thread>

#include "proofs/field/fr.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/pc2/aux_files.hpp"
#include "proofs/poseidon/poseidon.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sha256/sha256.hpp"

namespace sealhost::proofs::c1 {
namespace {

namespace fs = std::filesystem;
using merkle::TreeShape;

std::string hex(const Node& n) {
  static constexpr char kD[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : n) {
    s.push_back(kD[b >> 4]);
    s.push_back(kD[b & 15]);
  }
  return s;
}

// Read-only file with exact-size positional reads.
class LayerFile {
 public:
  LayerFile(const fs::path& path, uint64_t nodes) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      throw C1Error("layer file " + path.string() + ": cannot open (" + std::strerror(errno) +
                    "); run PC1 again or restore the cache dir");
    }
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    if (size != static_cast<off_t>(nodes * 32)) {
      ::close(fd_);
      throw C1Error("layer file " + path.string() + ": " + std::to_string(size) +
                    " bytes, expected " + std::to_string(nodes * 32) + "; the file is damaged");
    }
  }
  LayerFile(const LayerFile&) = delete;
  LayerFile& operator=(const LayerFile&) = delete;
  ~LayerFile() { ::close(fd_); }

  Node node(uint64_t v) const {
    Node n{};
    const ssize_t r = ::pread(fd_, n.data(), 32, static_cast<off_t>(v * 32));
    if (r != 32) {
      throw C1Error("layer file " + path_.string() + ": short read of node " + std::to_string(v));
    }
    return n;
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

size_t tree_levels(const TreeShape& s) {
  return merkle::row_count(s.base_leaves, s.base_arity) - 1 + (s.sub_arity != 0 ? 1 : 0) +
         (s.top_arity != 0 ? 1 : 0);
}

bool shape_ok(const InclusionProof& p, const TreeShape& s) {
  const size_t base = merkle::row_count(s.base_leaves, s.base_arity) - 1;
  if (p.path.size() != tree_levels(s)) return false;
  for (size_t i = 0; i < p.path.size(); ++i) {
    const size_t want = i < base ? s.base_arity : (i == base ? s.sub_arity : s.top_arity);
    if (p.path[i].arity() != want) return false;
  }
  return true;
}

Node column_hash(const std::vector<Node>& rows) {
  std::vector<field::Fr> f;
  f.reserve(rows.size());
  for (const auto& r : rows) {
    const auto v = field::Fr::from_bytes(r.data());
    if (!v) throw merkle::MerkleError("column label is not a canonical field element");
    f.push_back(*v);
  }
  return poseidon::hash(f).to_bytes();
}

// The 37 chunks of the label preimage of `layer` from the parents' columns.
std::vector<Node> label_parents(uint32_t layer, const std::vector<ColumnProof>& drg,
                                const std::vector<ColumnProof>& exp) {
  std::vector<Node> out;
  out.reserve(kLabelParents);
  const size_t count = layer == 1 ? sdr::kBaseDegree : sdr::kDegree;
  for (size_t i = 0; i < kLabelParents; ++i) {
    const size_t k = i % count;
    out.push_back(k < sdr::kBaseDegree ? drg[k].rows[layer - 1]
                                       : exp[k - sdr::kBaseDegree].rows[layer - 2]);
  }
  return out;
}

Verdict fail(std::string why) {
  return {false, std::move(why)};
}

std::optional<std::string> check_column(const ColumnProof& c, uint64_t index, uint32_t layers,
                                        const TreeShape& shape, const Node& comm_c,
                                        const char* what) {
  const std::string w = std::string(what) + " column " + std::to_string(index);
  if (c.index != index) return w + ": proof is for node " + std::to_string(c.index);
  if (c.rows.size() != layers) return w + ": " + std::to_string(c.rows.size()) + " rows";
  Node leaf{};
  try {
    leaf = column_hash(c.rows);
  } catch (const std::exception&) {
    return w + ": a label is not a canonical field element";
  }
  if (c.inclusion_proof.leaf != leaf) return w + ": tree_c leaf is not the column hash";
  if (!shape_ok(c.inclusion_proof, shape)) return w + ": tree_c path has the wrong shape";
  if (!merkle::verify(c.inclusion_proof, merkle::NodeHash::kPoseidon, comm_c, index)) {
    return w + ": tree_c path does not open this node under comm_c";
  }
  return std::nullopt;
}

}  // namespace

PoRepParams PoRepParams::for_seal_proof(const sdr::SealProof& proof) {
  if (proof.api_version == sdr::ApiVersion::V1_0_0) {
    throw C1Error(std::string(proof.name) +
                  ": legacy V1 PoRep is not supported by Commit1 (use the V1_1 proof)");
  }
  auto p = for_sector(proof.sector_size);
  p.layers = proof.layers;
  p.synthetic = proof.synthetic;
  return p;
}

PoRepParams PoRepParams::for_sector(uint64_t sector_bytes) {
  const auto& s = challenges::porep_size_params(sector_bytes);
  return {s.sector_bytes, s.layers, s.partitions, s.challenges_per_partition, false};
}

std::vector<std::vector<uint64_t>> porep_challenges(const PoRepParams& params,
                                                    const PublicInputs& inputs) {
  std::vector<std::vector<uint64_t>> out;
  std::optional<challenges::SyntheticChallenges> synth;
  if (params.synthetic) synth.emplace(inputs.replica_id, inputs.comm_r, params.nodes());
  for (uint32_t k = 0; k < params.partitions; ++k) {
    out.push_back(synth ? synth->porep_challenges(inputs.seed, k, params.challenges_per_partition)
                        : challenges::interactive_porep_challenges(
                              inputs.replica_id, inputs.seed, params.nodes(), k,
                              params.challenges_per_partition));
  }
  return out;
}

Node label_of(const Node& replica_id, uint32_t layer, uint64_t node,
              const std::vector<Node>& parents) {
  uint8_t header[64] = {};
  std::memcpy(header, replica_id.data(), 32);
  for (int i = 0; i < 4; ++i) header[32 + i] = static_cast<uint8_t>(layer >> (8 * (3 - i)));
  for (int i = 0; i < 8; ++i) header[36 + i] = static_cast<uint8_t>(node >> (8 * (7 - i)));
  sha256::Hasher h;
  h.update(header);
  for (const auto& p : parents) h.update(p);
  Node out = h.finish();
  out[31] &= 0x3f;
  return out;
}

struct ChallengeProver::Impl {
  PoRepParams params;
  const sdr::Graph* graph = nullptr;
  PublicInputs inputs;
  std::vector<std::unique_ptr<LayerFile>> layers;
  std::optional<merkle::CompoundTreeReader> tree_d, tree_c, tree_r;

  ColumnProof column(uint64_t v) const {
    ColumnProof c;
    c.index = v;
    for (const auto& f : layers) c.rows.push_back(f->node(v));
    c.inclusion_proof = tree_c->prove(v);
    return c;
  }
};

ChallengeProver::ChallengeProver(const PoRepParams& params, const sdr::Graph& graph,
                                 const PublicInputs& inputs, const ProverFiles& files)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.params = params;
  m.graph = &graph;
  m.inputs = inputs;
  if (graph.nodes() != params.nodes()) {
    throw C1Error("commit1: graph of " + std::to_string(graph.nodes()) + " nodes for a sector of " +
                  std::to_string(params.nodes()) + " nodes (pass the sector's graph)");
  }
  const TreeShape shape = TreeShape::for_sector(params.sector_bytes);
  const fs::path& dir = files.cache_dir;
  for (uint32_t l = 1; l <= params.layers; ++l) {
    m.layers.push_back(std::make_unique<LayerFile>(dir / sdr::layer_file_name(l), params.nodes()));
  }
  try {
    m.tree_d = merkle::CompoundTreeReader::open(
        dir, merkle::TreeId::kTreeD, TreeShape::tree_d(params.sector_bytes), {std::nullopt});
    if (m.tree_d->root() != inputs.comm_d) {
      throw C1Error("commit1: tree-d in " + dir.string() + " has root " + hex(m.tree_d->root()) +
                    ", not comm_d " + hex(inputs.comm_d) + " (cache dir of another sector?)");
    }
    m.tree_c = merkle::CompoundTreeReader::open(dir, merkle::TreeId::kTreeC, shape, {std::nullopt});
    size_t rows_to_discard = merkle::default_rows_to_discard(shape.base_leaves, shape.base_arity);
    if (fs::exists(dir / pc2::kTAuxFileName)) {
      rows_to_discard = pc2::read_t_aux(dir).tree_r_last.rows_to_discard;
    }
    m.tree_r = merkle::CompoundTreeReader::open(
        dir, merkle::TreeId::kTreeRLast, shape, {rows_to_discard},
        merkle::file_leaf_reader(files.replica_path, 0, shape.total_leaves()));
    if (merkle::hash_children(merkle::NodeHash::kPoseidon, {m.tree_c->root(), m.tree_r->root()}) !=
        inputs.comm_r) {
      throw C1Error("commit1: Poseidon(tree-c root, tree-r-last root) in " + dir.string() +
                    " is not comm_r " + hex(inputs.comm_r) + " (cache dir of another sector?)");
    }
  } catch (const merkle::MerkleError& e) {
    throw C1Error(std::string("commit1: ") + e.what());
  } catch (const pc2::AuxError& e) {
    throw C1Error(std::string("commit1: ") + e.what());
  }
}

ChallengeProver::~ChallengeProver() = default;
ChallengeProver::ChallengeProver(ChallengeProver&&) noexcept = default;

ChallengeProof ChallengeProver::prove(uint64_t x) const {
  const Impl& m = *impl_;
  if (x == 0 || x >= m.params.nodes()) {
    throw C1Error("commit1: challenge " + std::to_string(x) + " out of range [1, " +
                  std::to_string(m.params.nodes()) + ")");
  }
  try {
    ChallengeProof p;
    p.comm_d_proof = m.tree_d->prove(x);
    p.c_x = m.column(x);
    uint32_t parents[sdr::kDegree];
    m.graph->parents(x, parents);
    for (uint32_t i = 0; i < sdr::kDegree; ++i) {
      (i < sdr::kBaseDegree ? p.drg_parents : p.exp_parents).push_back(m.column(parents[i]));
    }
    p.comm_r_last_proof = m.tree_r->prove(x);
    complete_labeling_proofs(m.params, x, p);
    const auto v = verify_challenge(m.params, *m.graph, m.inputs, x, p);
    if (!v) {
      throw C1Error("commit1: the proof of challenge " + std::to_string(x) + " does not verify (" +
                    v.reason + "); the layer files, trees or sealed file are damaged");
    }
    return p;
  } catch (const merkle::MerkleError& e) {
    throw C1Error(std::string("commit1: ") + e.what());
  }
}

void complete_labeling_proofs(const PoRepParams& params, uint64_t x, ChallengeProof& p) {
  if (p.drg_parents.size() != sdr::kBaseDegree || p.exp_parents.size() != sdr::kExpansionDegree) {
    throw C1Error("commit1: challenge " + std::to_string(x) +
                  " needs 6 DRG and 8 expander columns");
  }
  for (const auto* cols : {&p.drg_parents, &p.exp_parents}) {
    for (const auto& c : *cols) {
      if (c.rows.size() != params.layers) {
        throw C1Error("commit1: parent column " + std::to_string(c.index) + " has " +
                      std::to_string(c.rows.size()) + " rows, expected " +
                      std::to_string(params.layers));
      }
    }
  }
  p.labeling_proofs.clear();
  for (uint32_t l = 1; l <= params.layers; ++l) {
    p.labeling_proofs.push_back({l, x, label_parents(l, p.drg_parents, p.exp_parents)});
  }
  p.encoding_proof = p.labeling_proofs.back();
}

C1Output prove_commit1(const PoRepParams& params, const sdr::Graph& graph,
                       const PublicInputs& inputs, const ProverFiles& files,
                       const Commit1Options& options) {
  const ChallengeProver prover(params, graph, inputs, files);
  const auto challenges = porep_challenges(params, inputs);
  struct Task {
    size_t partition = 0;
    size_t index = 0;
  };
  std::vector<Task> tasks;
  C1Output out;
  out.inputs = inputs;
  out.partitions.resize(challenges.size());
  for (size_t k = 0; k < challenges.size(); ++k) {
    out.partitions[k].resize(challenges[k].size());
    for (size_t i = 0; i < challenges[k].size(); ++i) tasks.push_back({k, i});
  }
  // Workers take tasks in order; a failure stops the hand-out. Every task before the failed one
  // was taken and runs to completion, so rethrowing the failure of the lowest task index gives
  // the same error as one thread would.
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(tasks.size());
  auto run = [&] {
    for (size_t t = next++; t < tasks.size(); t = next++) {
      try {
        if (options.cancelled && options.cancelled()) throw C1Cancelled("commit1: cancelled");
        const auto [k, i] = tasks[t];
        out.partitions[k][i] = prover.prove(challenges[k][i]);
      } catch (...) {
        errors[t] = std::current_exception();
        next = tasks.size();
      }
    }
  };
  const size_t workers = std::min<size_t>(std::max(1u, options.threads), tasks.size());
  {
    std::vector<std::jthread> pool;
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(run);
    run();
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return out;
}

Verdict verify_challenge(const PoRepParams& params, const sdr::Graph& graph,
                         const PublicInputs& inputs, uint64_t x, const ChallengeProof& p) {
  const uint64_t nodes = params.nodes();
  if (x == 0 || x >= nodes) return fail("challenge " + std::to_string(x) + " out of range");
  if (graph.nodes() != nodes) return fail("graph does not match the sector size");
  const TreeShape shape = TreeShape::for_sector(params.sector_bytes);
  const TreeShape shape_d = TreeShape::tree_d(params.sector_bytes);
  // 1. TreeD
  if (!shape_ok(p.comm_d_proof, shape_d) ||
      !merkle::verify(p.comm_d_proof, merkle::NodeHash::kSha254, inputs.comm_d, x)) {
    return fail("tree_d path does not open node " + std::to_string(x) + " under comm_d");
  }
  // 2. Columns: all under the same comm_c, at x and its parents.
  const Node comm_c = p.c_x.inclusion_proof.root;
  if (p.drg_parents.size() != sdr::kBaseDegree || p.exp_parents.size() != sdr::kExpansionDegree) {
    return fail("expected 6 DRG and 8 expander parent columns");
  }
  uint32_t parents[sdr::kDegree];
  graph.parents(x, parents);
  if (auto e = check_column(p.c_x, x, params.layers, shape, comm_c, "challenge")) return fail(*e);
  for (uint32_t i = 0; i < sdr::kDegree; ++i) {
    const auto& c = i < sdr::kBaseDegree ? p.drg_parents[i] : p.exp_parents[i - sdr::kBaseDegree];
    if (auto e = check_column(c, parents[i], params.layers, shape, comm_c,
                              i < sdr::kBaseDegree ? "drg parent" : "expander parent")) {
      return fail(*e);
    }
  }
  // 3. TreeRLast and comm_r.
  const Node comm_r_last = p.comm_r_last_proof.root;
  if (!shape_ok(p.comm_r_last_proof, shape) ||
      !merkle::verify(p.comm_r_last_proof, merkle::NodeHash::kPoseidon, comm_r_last, x)) {
    return fail("tree_r_last path does not open node " + std::to_string(x));
  }
  try {
    if (merkle::hash_children(merkle::NodeHash::kPoseidon, {comm_c, comm_r_last}) !=
        inputs.comm_r) {
      return fail("Poseidon(comm_c, comm_r_last) != comm_r");
    }
  } catch (const merkle::MerkleError&) {
    return fail("comm_c or comm_r_last is not a canonical field element");
  }
  // 4. Labels of every layer.
  if (p.labeling_proofs.size() != params.layers) {
    return fail(std::to_string(p.labeling_proofs.size()) + " labelling proofs, expected " +
                std::to_string(params.layers));
  }
  for (uint32_t l = 1; l <= params.layers; ++l) {
    const auto& lp = p.labeling_proofs[l - 1];
    const std::string w = "layer " + std::to_string(l) + " labelling proof";
    if (lp.layer_index != l || lp.node != x || lp.parents.size() != kLabelParents) {
      return fail(w + ": wrong layer, node or parent count");
    }
    if (lp.parents != label_parents(l, p.drg_parents, p.exp_parents)) {
      return fail(w + ": parent labels differ from the parents' columns");
    }
    if (label_of(inputs.replica_id, l, x, lp.parents) != p.c_x.rows[l - 1]) {
      return fail(w + ": label does not match the column");
    }
  }
  // 5. Encoding: replica_x = key + d_x (mod r).
  const auto& ep = p.encoding_proof;
  if (ep.layer_index != params.layers || ep.node != x || ep.parents.size() != kLabelParents) {
    return fail("encoding proof: wrong layer, node or parent count");
  }
  const Node key = label_of(inputs.replica_id, ep.layer_index, x, ep.parents);
  const auto k = field::Fr::from_bytes(key.data());
  const auto d = field::Fr::from_bytes(p.comm_d_proof.leaf.data());
  const auto r = field::Fr::from_bytes(p.comm_r_last_proof.leaf.data());
  if (!k || !d || !r || (*k + *d) != *r) {
    return fail("encoding: replica node != key + data node (mod r)");
  }
  return {true, {}};
}

Verdict verify_commit1(const PoRepParams& params, const sdr::Graph& graph, const C1Output& out) {
  std::vector<std::vector<uint64_t>> expected;
  try {
    expected = porep_challenges(params, out.inputs);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (out.partitions.size() != expected.size()) {
    return fail(std::to_string(out.partitions.size()) + " partitions, expected " +
                std::to_string(expected.size()));
  }
  for (size_t k = 0; k < expected.size(); ++k) {
    if (out.partitions[k].size() != expected[k].size()) {
      return fail("partition " + std::to_string(k) + ": wrong number of challenge proofs");
    }
    for (size_t i = 0; i < expected[k].size(); ++i) {
      auto v = verify_challenge(params, graph, out.inputs, expected[k][i], out.partitions[k][i]);
      if (!v) {
        return fail("partition " + std::to_string(k) + " challenge " + std::to_string(i) +
                    " (node " + std::to_string(expected[k][i]) + "): " + v.reason);
      }
    }
  }
  return {true, {}};
}

}  // namespace sealhost::proofs::c1
