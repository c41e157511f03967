#include "proofs/c1/synth_proofs.hpp"

#include <cstring>
#include <fstream>

#include "proofs/merkle/tree_store.hpp"

namespace sealhost::proofs::c1 {
namespace {

namespace fs = std::filesystem;
using merkle::PathLevel;
using merkle::TreeShape;

// Arity of each TreeC/TreeRLast level.
std::vector<size_t> tree_arities(const PoRepParams& params) {
  const TreeShape s = TreeShape::for_sector(params.sector_bytes);
  std::vector<size_t> a(merkle::row_count(s.base_leaves, s.base_arity) - 1, s.base_arity);
  if (s.sub_arity != 0) a.push_back(s.sub_arity);
  if (s.top_arity != 0) a.push_back(s.top_arity);
  return a;
}

size_t log2_exact(uint64_t v) {
  size_t n = 0;
  while ((uint64_t{1} << n) < v) ++n;
  return n;
}

// Nodes of a TreeC/TreeRLast proof in the file: leaf + all siblings.
uint64_t proof_r_nodes(const PoRepParams& params) {
  uint64_t n = 1;
  for (size_t a : tree_arities(params)) n += a - 1;
  return n;
}

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_node(std::vector<uint8_t>& out, const Node& n) {
  out.insert(out.end(), n.begin(), n.end());
}

void put_tree_proof(std::vector<uint8_t>& out, const InclusionProof& p) {
  put_node(out, p.leaf);
  for (const auto& l : p.path) {
    for (const auto& s : l.siblings) put_node(out, s);
  }
}

void put_record(std::vector<uint8_t>& out, uint64_t x, const ChallengeProof& p) {
  put_u64(out, x);
  for (const auto& c : p.drg_parents) put_u64(out, c.index);
  for (const auto& c : p.exp_parents) put_u64(out, c.index);
  put_node(out, p.comm_d_proof.leaf);
  for (const auto& l : p.comm_d_proof.path) put_node(out, l.siblings.at(0));
  auto column = [&out](const ColumnProof& c) {
    for (const auto& r : c.rows) put_node(out, r);
    put_tree_proof(out, c.inclusion_proof);
  };
  column(p.c_x);
  for (const auto& c : p.drg_parents) column(c);
  for (const auto& c : p.exp_parents) column(c);
  put_tree_proof(out, p.comm_r_last_proof);
}

class RecordReader {
 public:
  RecordReader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  uint64_t u64() {
    need(8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p_[pos_ + static_cast<size_t>(i)];
    pos_ += 8;
    return v;
  }
  Node node() {
    need(32);
    Node n{};
    std::memcpy(n.data(), p_ + pos_, 32);
    pos_ += 32;
    return n;
  }

 private:
  void need(size_t k) const {
    if (n_ - pos_ < k) throw C1Error("synthetic proofs: record shorter than its layout (bug)");
  }
  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

InclusionProof read_tree_proof(RecordReader& r, uint64_t index, const std::vector<size_t>& arities,
                               const Node& root) {
  InclusionProof p;
  p.root = root;
  p.leaf = r.node();
  for (size_t a : arities) {
    PathLevel l;
    l.position = static_cast<uint32_t>(index % a);
    index /= a;
    for (size_t k = 0; k + 1 < a; ++k) l.siblings.push_back(r.node());
    p.path.push_back(std::move(l));
  }
  return p;
}

}  // namespace

uint64_t synth_proof_record_bytes(const PoRepParams& params) {
  const uint64_t parents = sdr::kDegree;
  const uint64_t proof_d = 1 + log2_exact(params.nodes());
  const uint64_t proof_r = proof_r_nodes(params);
  return 8 * (1 + parents) + 32 * (proof_d + (1 + parents) * (params.layers + proof_r) + proof_r);
}

uint64_t synth_proofs_file_bytes(const PoRepParams& params) {
  return 96 + std::min(params.nodes(), challenges::kDefaultSyntheticChallenges) *
                  synth_proof_record_bytes(params);
}

void write_synthetic_proofs(const PoRepParams& params, const sdr::Graph& graph,
                            const PublicInputs& inputs, const ProverFiles& files,
                            const fs::path& path, const SynthWriteOptions& options) {
  if (!params.synthetic) {
    throw C1Error("synthetic proofs: " + path.string() +
                  ": the sector is not a Synthetic PoRep sector (use its _Feat_SyntheticPoRep "
                  "seal proof)");
  }
  const ChallengeProver prover(params, graph, inputs, files);
  const challenges::SyntheticChallenges synth(inputs.replica_id, inputs.comm_r, params.nodes());
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  if (!f) throw C1Error("synthetic proofs: cannot create " + tmp.string());
  auto fail = [&](const std::string& why) {
    f.close();
    std::error_code ec;
    fs::remove(tmp, ec);
    throw C1Error("synthetic proofs: " + path.string() + ": " + why);
  };
  std::vector<uint8_t> buf;
  buf.reserve(synth_proof_record_bytes(params) * 64);
  bool header = false;
  const uint64_t total = synth.count();
  constexpr uint64_t kBatch = 64;
  std::vector<uint64_t> xs(kBatch);
  for (uint64_t first = 0; first < total; first += kBatch) {
    if (options.cancelled && options.cancelled()) fail("cancelled");
    const uint64_t n = std::min(kBatch, total - first);
    synth.generate(first, n, xs.data());
    buf.clear();
    for (uint64_t i = 0; i < n; ++i) {
      ChallengeProof p;
      try {
        p = prover.prove(xs[i]);
      } catch (const C1Error& e) {
        fail(e.what());
      }
      if (!header) {
        put_node(buf, p.comm_d_proof.root);
        put_node(buf, p.c_x.inclusion_proof.root);
        put_node(buf, p.comm_r_last_proof.root);
        header = true;
      }
      put_record(buf, xs[i], p);
    }
    f.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(buf.size()));
    if (!f) fail("write failed (disk full?)");
    if (options.progress && ((first + n) % 1024 == 0 || first + n == total)) {
      options.progress(first + n, total);
    }
  }
  f.close();
  if (!f) fail("close failed");
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) fail("cannot rename " + tmp.string() + " (" + ec.message() + ")");
}

C1Output read_synthetic_proofs(const PoRepParams& params, const sdr::Graph& graph,
                               const PublicInputs& inputs, const fs::path& path) {
  if (!params.synthetic) {
    throw C1Error("synthetic proofs: " + path.string() +
                  ": the sector is not a Synthetic PoRep "
                  "sector");
  }
  const uint64_t record = synth_proof_record_bytes(params);
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) {
    throw C1Error("synthetic proofs: " + path.string() + ": cannot read (" + ec.message() +
                  "); regenerate it with write_synthetic_proofs before Commit1");
  }
  if (size != synth_proofs_file_bytes(params)) {
    throw C1Error("synthetic proofs: " + path.string() + ": " + std::to_string(size) +
                  " bytes, expected " + std::to_string(synth_proofs_file_bytes(params)) +
                  " (truncated, or written for another sector size)");
  }
  std::ifstream f(path, std::ios::binary);
  auto read_at = [&](uint64_t offset, uint8_t* out, size_t n) {
    f.seekg(static_cast<std::streamoff>(offset));
    f.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
    if (f.gcount() != static_cast<std::streamsize>(n)) {
      throw C1Error("synthetic proofs: " + path.string() + ": short read at " +
                    std::to_string(offset));
    }
  };
  uint8_t roots[96];
  read_at(0, roots, sizeof roots);
  Node root_d{}, root_c{}, root_r{};
  std::memcpy(root_d.data(), roots, 32);
  std::memcpy(root_c.data(), roots + 32, 32);
  std::memcpy(root_r.data(), roots + 64, 32);
  if (root_d != inputs.comm_d) {
    throw C1Error("synthetic proofs: " + path.string() +
                  ": root_d is not the sector's comm_d (file of another sector?)");
  }
  const challenges::SyntheticChallenges synth(inputs.replica_id, inputs.comm_r, params.nodes());
  const auto arities = tree_arities(params);
  std::vector<size_t> arities_d(log2_exact(params.nodes()), 2);
  std::vector<uint8_t> buf(record);
  C1Output out;
  out.inputs = inputs;
  for (uint32_t k = 0; k < params.partitions; ++k) {
    std::vector<ChallengeProof> proofs;
    for (uint64_t idx : synth.selected_indexes(inputs.seed, k, params.challenges_per_partition)) {
      read_at(96 + idx * record, buf.data(), buf.size());
      RecordReader r(buf.data(), buf.size());
      const uint64_t x = r.u64();
      if (x != synth.at(idx)) {
        throw C1Error("synthetic proofs: " + path.string() + ": record " + std::to_string(idx) +
                      " is for node " + std::to_string(x) + ", the synthetic challenge is " +
                      std::to_string(synth.at(idx)) + " (file of another sector?)");
      }
      uint64_t parents[sdr::kDegree];
      for (auto& v : parents) v = r.u64();
      ChallengeProof p;
      p.comm_d_proof = read_tree_proof(r, x, arities_d, root_d);
      auto column = [&](uint64_t index) {
        ColumnProof c;
        c.index = index;
        for (uint32_t l = 0; l < params.layers; ++l) c.rows.push_back(r.node());
        c.inclusion_proof = read_tree_proof(r, index, arities, root_c);
        return c;
      };
      p.c_x = column(x);
      for (uint32_t i = 0; i < sdr::kDegree; ++i) {
        (i < sdr::kBaseDegree ? p.drg_parents : p.exp_parents).push_back(column(parents[i]));
      }
      p.comm_r_last_proof = read_tree_proof(r, x, arities, root_r);
      complete_labeling_proofs(params, x, p);
      const auto v = verify_challenge(params, graph, inputs, x, p);
      if (!v) {
        throw C1Error("synthetic proofs: " + path.string() + ": record " + std::to_string(idx) +
                      " (node " + std::to_string(x) + ") does not verify: " + v.reason);
      }
      proofs.push_back(std::move(p));
    }
    out.partitions.push_back(std::move(proofs));
  }
  return out;
}

}  // namespace sealhost::proofs::c1
