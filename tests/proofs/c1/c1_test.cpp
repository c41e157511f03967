// proofs/c1: Commit1 vanilla PoRep proofs of sectors sealed here with the real PC1 labels
// (proofs/sdr), TreeD (proofs/merkle) and PC2 (proofs/pc2); the commitments match the spec's
// 2KiB vectors (tests/vectors/challenges.json "post.e2e.2kib"). Prove -> verify, tampering with
// every part of a challenge proof, and prover-side errors.
#include "proofs/c1/c1.hpp"
#include "proofs/c1/c1_json.hpp"
#include "proofs/c1/synth_proofs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <span>

#include "proofs/fr32/fr32.hpp"
#include "proofs/merkle/tree_store.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/sdr/labels.hpp"

namespace sealhost::proofs::c1 {
namespace {

namespace fs = std::filesystem;

const nlohmann::json& vector_by_id(const std::string& id) {
  static const nlohmann::json kJson = [] {
    std::ifstream f(std::string(SEALHOST_TEST_VECTORS) + "/challenges.json");
    if (!f) throw std::runtime_error("tests/vectors/challenges.json: cannot open");
    return nlohmann::json::parse(f);
  }();
  for (const auto& v : kJson["vectors"]) {
    if (v["id"] == id) return v;
  }
  throw std::runtime_error("tests/vectors/challenges.json: no vector " + id);
}

Node node_of(const nlohmann::json& j) {
  return sdr::bytes32_from_hex(j.get<std::string>(), "vector");
}

void write_file(const fs::path& p, const std::vector<uint8_t>& bytes) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

struct Sealed {
  ProverFiles files;
  PublicInputs inputs;
};

// PC1 + TreeD + PC2 of `padded` (sector_bytes of fr32-padded data) into dir.
Sealed seal(const fs::path& dir, const sdr::Graph& graph, uint32_t layers, const Node& replica_id,
            const std::vector<uint8_t>& padded) {
  Sealed s;
  s.files.cache_dir = dir / "cache";
  s.files.replica_path = dir / "sealed";
  fs::create_directories(s.files.cache_dir);
  const uint64_t bytes = padded.size();
  const auto labels = sdr::label_in_memory(graph, replica_id, layers);
  for (uint32_t l = 1; l <= layers; ++l) {
    write_file(s.files.cache_dir / sdr::layer_file_name(l),
               std::vector<uint8_t>(labels.label(l, 0), labels.label(l, 0) + bytes));
  }
  write_file(dir / "unsealed", padded);
  s.inputs.replica_id = replica_id;
  s.inputs.comm_d = merkle::build_tree(
      s.files.cache_dir, merkle::TreeId::kTreeD, merkle::TreeShape::tree_d(bytes),
      merkle::memory_leaf_reader(padded.data(), bytes / 32), {std::nullopt});
  pc2::CpuPoseidonEngine engine(1);
  pc2::Pc2Options opt;
  opt.engine = &engine;
  pc2::Pc2Input in;
  in.sector_bytes = bytes;
  in.layers = layers;
  in.cache_dir = s.files.cache_dir;
  in.unsealed_path = dir / "unsealed";
  in.sealed_path = s.files.replica_path;
  in.comm_d = s.inputs.comm_d;
  in.replica_id = replica_id;
  s.inputs.comm_r = pc2::run_pc2(in, opt).comm_r;
  s.inputs.seed.fill(7);
  return s;
}

std::vector<uint8_t> spec_data_padded() {
  std::vector<uint8_t> data(2032);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((7 * i + 3) % 256);
  return fr32::pad(data);
}

// Reference serialisation of SealCommitPhase1Output through a JSON DOM (nlohmann ordered_json,
// fields in serde declaration order, compact dump): what c1_output_to_json writes directly.
namespace reference {
using Json = nlohmann::ordered_json;
Json bytes(const Node& n) {
  Json a = Json::array();
  for (uint8_t b : n) a.push_back(b);
  return a;
}
Json path(std::span<const merkle::PathLevel> levels) {
  Json p = Json::array();
  for (const auto& l : levels) {
    Json h = Json::array();
    for (const auto& s : l.siblings) h.push_back(bytes(s));
    p.push_back(Json{{"hashes", std::move(h)}, {"index", l.position}});
  }
  return Json{{"path", std::move(p)}};
}
Json merkle_proof(const InclusionProof& p, const merkle::TreeShape& s) {
  const size_t base = merkle::row_count(s.base_leaves, s.base_arity) - 1;
  const std::span<const merkle::PathLevel> all(p.path);
  if (s.sub_arity == 0) {
    return Json{{"data", Json{{"Single", Json{{"root", bytes(p.root)},
                                              {"leaf", bytes(p.leaf)},
                                              {"path", path(all)}}}}}};
  }
  Json inner;
  inner["base_proof"] = path(all.first(base));
  inner["sub_proof"] = path(all.subspan(base, 1));
  if (s.top_arity != 0) inner["top_proof"] = path(all.subspan(base + 1, 1));
  inner["root"] = bytes(p.root);
  inner["leaf"] = bytes(p.leaf);
  return Json{{"data", Json{{s.top_arity != 0 ? "Top" : "Sub", std::move(inner)}}}};
}
Json column(const ColumnProof& c, const merkle::TreeShape& s) {
  Json rows = Json::array();
  for (const auto& r : c.rows) rows.push_back(bytes(r));
  return Json{{"column", Json{{"index", c.index}, {"rows", std::move(rows)}, {"_h", nullptr}}},
              {"inclusion_proof", merkle_proof(c.inclusion_proof, s)}};
}
Json labeling(const LabelingProof& l) {
  Json parents = Json::array();
  for (const auto& p : l.parents) parents.push_back(bytes(p));
  return Json{{"parents", std::move(parents)}, {"layer_index", l.layer_index}, {"node", l.node}};
}
std::string c1_json(const PoRepParams& params, const std::string& name, const std::string& size,
                    const Bytes32& ticket, const C1Output& output) {
  const auto shape = merkle::TreeShape::for_sector(params.sector_bytes);
  const auto shape_d = merkle::TreeShape::tree_d(params.sector_bytes);
  Json partitions = Json::array();
  for (const auto& part : output.partitions) {
    Json proofs = Json::array();
    for (const auto& p : part) {
      Json drg = Json::array(), exp = Json::array(), labels = Json::array();
      for (const auto& c : p.drg_parents) drg.push_back(column(c, shape));
      for (const auto& c : p.exp_parents) exp.push_back(column(c, shape));
      for (const auto& l : p.labeling_proofs) labels.push_back(labeling(l));
      Json proof;
      proof["comm_d_proofs"] = merkle_proof(p.comm_d_proof, shape_d);
      proof["comm_r_last_proof"] = merkle_proof(p.comm_r_last_proof, shape);
      proof["replica_column_proofs"] = Json{{"c_x", column(p.c_x, shape)},
                                            {"drg_parents", std::move(drg)},
                                            {"exp_parents", std::move(exp)}};
      proof["labeling_proofs"] = std::move(labels);
      proof["encoding_proof"] = labeling(p.encoding_proof);
      proofs.push_back(std::move(proof));
    }
    partitions.push_back(std::move(proofs));
  }
  Json out;
  out["registered_proof"] = name;
  out["vanilla_proofs"] = Json{{"StackedDrg" + size + "V1", std::move(partitions)}};
  out["comm_r"] = bytes(output.inputs.comm_r);
  out["comm_d"] = bytes(output.inputs.comm_d);
  out["replica_id"] = bytes(output.inputs.replica_id);
  out["seed"] = bytes(output.inputs.seed);
  out["ticket"] = bytes(ticket);
  return out.dump();
}
}  // namespace reference

// A C1 output of random nodes with the proof shapes of `sector_bytes` (for the sizes whose
// TreeC/TreeRLast paths end with sub and top levels, which no test can seal).
C1Output random_shaped_output(uint64_t sector_bytes, uint32_t layers, size_t challenges,
                              uint32_t seed) {
  std::mt19937_64 rng(seed);
  auto node = [&] {
    Node n{};
    for (auto& b : n) b = static_cast<uint8_t>(rng());
    return n;
  };
  auto path = [&](const merkle::TreeShape& s) {
    InclusionProof p;
    p.root = node();
    p.leaf = node();
    std::vector<size_t> arities(merkle::row_count(s.base_leaves, s.base_arity) - 1, s.base_arity);
    if (s.sub_arity != 0) arities.push_back(s.sub_arity);
    if (s.top_arity != 0) arities.push_back(s.top_arity);
    for (size_t a : arities) {
      merkle::PathLevel l;
      l.position = static_cast<uint32_t>(rng() % a);
      for (size_t k = 1; k < a; ++k) l.siblings.push_back(node());
      p.path.push_back(std::move(l));
    }
    return p;
  };
  const auto shape = merkle::TreeShape::for_sector(sector_bytes);
  const auto shape_d = merkle::TreeShape::tree_d(sector_bytes);
  auto column = [&] {
    ColumnProof c;
    c.index = rng() % (sector_bytes / 32);
    for (uint32_t l = 0; l < layers; ++l) c.rows.push_back(node());
    c.inclusion_proof = path(shape);
    return c;
  };
  C1Output out;
  out.inputs = {node(), node(), node(), node()};
  out.partitions.resize(2);
  for (auto& part : out.partitions) {
    for (size_t i = 0; i < challenges; ++i) {
      ChallengeProof p;
      p.comm_d_proof = path(shape_d);
      p.c_x = column();
      for (int k = 0; k < 6; ++k) p.drg_parents.push_back(column());
      for (int k = 0; k < 8; ++k) p.exp_parents.push_back(column());
      p.comm_r_last_proof = path(shape);
      const uint64_t x = rng();
      for (uint32_t l = 1; l <= layers; ++l) {
        LabelingProof lp{l, x, {}};
        for (size_t k = 0; k < kLabelParents; ++k) lp.parents.push_back(node());
        p.labeling_proofs.push_back(std::move(lp));
      }
      p.encoding_proof = p.labeling_proofs.back();
      part.push_back(std::move(p));
    }
  }
  return out;
}

bool same_path(const InclusionProof& a, const InclusionProof& b) {
  if (a.leaf != b.leaf || a.root != b.root || a.path.size() != b.path.size()) return false;
  for (size_t l = 0; l < a.path.size(); ++l) {
    if (a.path[l].position != b.path[l].position || a.path[l].siblings != b.path[l].siblings) {
      return false;
    }
  }
  return true;
}

bool same_column(const ColumnProof& a, const ColumnProof& b) {
  return a.index == b.index && a.rows == b.rows && same_path(a.inclusion_proof, b.inclusion_proof);
}

bool same_labeling(const LabelingProof& a, const LabelingProof& b) {
  return a.layer_index == b.layer_index && a.node == b.node && a.parents == b.parents;
}

bool same_proof(const ChallengeProof& a, const ChallengeProof& b) {
  auto columns = [](const std::vector<ColumnProof>& x, const std::vector<ColumnProof>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(), same_column);
  };
  return same_path(a.comm_d_proof, b.comm_d_proof) && same_column(a.c_x, b.c_x) &&
         columns(a.drg_parents, b.drg_parents) && columns(a.exp_parents, b.exp_parents) &&
         same_path(a.comm_r_last_proof, b.comm_r_last_proof) &&
         std::equal(a.labeling_proofs.begin(), a.labeling_proofs.end(), b.labeling_proofs.begin(),
                    b.labeling_proofs.end(), same_labeling) &&
         same_labeling(a.encoding_proof, b.encoding_proof);
}

class C1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("sealhost_c1_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Sealed seal_spec(const std::string& name) {
    const auto& e = vector_by_id("post.e2e.2kib")["expected"][name];
    const auto& proof = sdr::lookup_seal_proof(name);
    auto s = seal(root_ / name, sdr::Graph(proof), proof.layers, node_of(e["replica_id_hex"]),
                  spec_data_padded());
    EXPECT_EQ(sdr::to_hex(s.inputs.comm_d),
              "692fbdbc72e1aa6468e86a183ed3dfc2d43b8ad6fb6639110966b2d6371f5419");
    EXPECT_EQ(s.inputs.comm_r, node_of(e["comm_r_hex"]));
    return s;
  }

  fs::path root_;
};

TEST_F(C1Test, TwoKiBV11ProveVerifyAndTamper) {
  const auto& proof = sdr::lookup_seal_proof("StackedDrg2KiBV1_1");
  const sdr::Graph graph(proof);
  const auto params = PoRepParams::for_seal_proof(proof);
  const auto s = seal_spec("StackedDrg2KiBV1_1");
  EXPECT_EQ(porep_challenges(params, s.inputs), (std::vector<std::vector<uint64_t>>{{9, 44}}));
  const auto out = prove_commit1(params, graph, s.inputs, s.files);
  ASSERT_EQ(out.partitions.size(), 1u);
  ASSERT_EQ(out.partitions[0].size(), 2u);
  const auto ok = verify_commit1(params, graph, out);
  ASSERT_TRUE(ok.valid) << ok.reason;
  const auto& p = out.partitions[0][0];
  EXPECT_EQ(p.comm_d_proof.path.size(), 6u);
  EXPECT_EQ(p.c_x.rows.size(), 2u);
  EXPECT_EQ(p.labeling_proofs[1].parents.size(), 37u);

  auto expect_reject = [&](const char* what, auto&& mutate) {
    C1Output bad = out;
    mutate(bad);
    const auto v = verify_commit1(params, graph, bad);
    EXPECT_FALSE(v.valid) << what;
  };
  expect_reject("seed", [](C1Output& o) { o.inputs.seed[0] ^= 1; });
  expect_reject("comm_d", [](C1Output& o) { o.inputs.comm_d[0] ^= 1; });
  expect_reject("comm_r", [](C1Output& o) { o.inputs.comm_r[0] ^= 1; });
  expect_reject("replica_id", [](C1Output& o) { o.inputs.replica_id[1] ^= 1; });
  expect_reject("column row", [](C1Output& o) { o.partitions[0][0].c_x.rows[1][0] ^= 1; });
  expect_reject("drg column row",
                [](C1Output& o) { o.partitions[0][1].drg_parents[2].rows[0][4] ^= 1; });
  expect_reject("exp column index",
                [](C1Output& o) { o.partitions[0][1].exp_parents[3].index ^= 1; });
  expect_reject("tree_c sibling", [](C1Output& o) {
    o.partitions[0][0].exp_parents[0].inclusion_proof.path[1].siblings[0][0] ^= 1;
  });
  expect_reject("tree_d sibling",
                [](C1Output& o) { o.partitions[0][0].comm_d_proof.path[2].siblings[0][0] ^= 1; });
  expect_reject("data leaf", [](C1Output& o) { o.partitions[0][1].comm_d_proof.leaf[0] ^= 1; });
  expect_reject("replica leaf",
                [](C1Output& o) { o.partitions[0][1].comm_r_last_proof.leaf[0] ^= 1; });
  expect_reject("labelling parent",
                [](C1Output& o) { o.partitions[0][0].labeling_proofs[0].parents[36][0] ^= 1; });
  expect_reject("encoding parent",
                [](C1Output& o) { o.partitions[0][0].encoding_proof.parents[3][0] ^= 1; });
  expect_reject("labelling layer",
                [](C1Output& o) { o.partitions[0][0].labeling_proofs[1].layer_index = 1; });
  expect_reject("missing labelling proof",
                [](C1Output& o) { o.partitions[0][0].labeling_proofs.pop_back(); });
  expect_reject("missing parent", [](C1Output& o) { o.partitions[0][0].exp_parents.pop_back(); });
  expect_reject("missing challenge", [](C1Output& o) { o.partitions[0].pop_back(); });
  expect_reject("swapped challenges",
                [](C1Output& o) { std::swap(o.partitions[0][0], o.partitions[0][1]); });
}

TEST_F(C1Test, TwoKiBSynthetic) {
  const auto& proof = sdr::lookup_seal_proof("StackedDrg2KiBV1_1_Feat_SyntheticPoRep");
  const sdr::Graph graph(proof);
  const auto params = PoRepParams::for_seal_proof(proof);
  EXPECT_TRUE(params.synthetic);
  const auto s = seal_spec("StackedDrg2KiBV1_1_Feat_SyntheticPoRep");
  EXPECT_EQ(porep_challenges(params, s.inputs), (std::vector<std::vector<uint64_t>>{{12, 4}}));
  const auto out = prove_commit1(params, graph, s.inputs, s.files);
  const auto v = verify_commit1(params, graph, out);
  EXPECT_TRUE(v.valid) << v.reason;
  // The interactive derivation gives other challenges, so the proof is rejected under it.
  auto interactive = params;
  interactive.synthetic = false;
  EXPECT_FALSE(verify_commit1(interactive, graph, out).valid);
}

TEST_F(C1Test, FourKiBSubTreeShapeManyChallenges) {
  // 8-2-0 TreeC/TreeRLast: column and replica paths end with an arity-2 sub level.
  const auto porep = sdr::porep_id(sdr::lookup_seal_proof("StackedDrg2KiBV1_1"));
  const sdr::Graph graph(128, porep, sdr::ApiVersion::V1_1_0);
  std::mt19937 rng(5);
  std::vector<uint8_t> data(4064);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  Node replica_id{};
  for (auto& b : replica_id) b = static_cast<uint8_t>(rng());
  replica_id[31] &= 0x3f;
  const auto s = seal(root_ / "4k", graph, 2, replica_id, fr32::pad(data));
  auto params = PoRepParams::for_sector(4096);
  params.partitions = 3;
  params.challenges_per_partition = 5;
  const auto out = prove_commit1(params, graph, s.inputs, s.files);
  EXPECT_EQ(out.partitions[0][0].comm_r_last_proof.path.size(), 3u);
  const auto v = verify_commit1(params, graph, out);
  EXPECT_TRUE(v.valid) << v.reason;

  // Any thread count gives the same proofs in the same order.
  for (unsigned threads : {2u, 4u, 32u}) {
    Commit1Options o;
    o.threads = threads;
    const auto many = prove_commit1(params, graph, s.inputs, s.files, o);
    ASSERT_EQ(many.partitions.size(), out.partitions.size());
    for (size_t k = 0; k < out.partitions.size(); ++k) {
      ASSERT_EQ(many.partitions[k].size(), out.partitions[k].size());
      for (size_t i = 0; i < out.partitions[k].size(); ++i) {
        EXPECT_TRUE(same_proof(many.partitions[k][i], out.partitions[k][i]))
            << threads << " threads, partition " << k << " challenge " << i;
      }
    }
  }
  // Cancel before the first challenge.
  Commit1Options cancel;
  cancel.threads = 2;
  cancel.cancelled = [] { return true; };
  EXPECT_THROW(prove_commit1(params, graph, s.inputs, s.files, cancel), C1Cancelled);
}

TEST_F(C1Test, ProverErrors) {
  const auto& proof = sdr::lookup_seal_proof("StackedDrg2KiBV1_1");
  const sdr::Graph graph(proof);
  const auto params = PoRepParams::for_seal_proof(proof);
  auto s = seal_spec("StackedDrg2KiBV1_1");
  EXPECT_THROW(PoRepParams::for_seal_proof(sdr::lookup_seal_proof("StackedDrg2KiBV1")), C1Error);
  auto wrong = s.inputs;
  wrong.comm_d[0] ^= 1;
  EXPECT_THROW(prove_commit1(params, graph, wrong, s.files), C1Error);
  wrong = s.inputs;
  wrong.comm_r[0] ^= 1;
  EXPECT_THROW(prove_commit1(params, graph, wrong, s.files), C1Error);
  const sdr::Graph other(128, sdr::porep_id(proof), sdr::ApiVersion::V1_1_0);
  EXPECT_THROW(prove_commit1(params, other, s.inputs, s.files), C1Error);
  // A damaged label of challenge 9's column in layer 2: the proof fails its own check.
  {
    std::fstream f(s.files.cache_dir / sdr::layer_file_name(2),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(9 * 32);
    const char junk[2] = {1, 2};
    f.write(junk, 2);
  }
  for (unsigned threads : {1u, 2u}) {
    Commit1Options o;
    o.threads = threads;
    try {
      prove_commit1(params, graph, s.inputs, s.files, o);
      ADD_FAILURE() << "damaged layer accepted";
    } catch (const C1Error& e) {
      EXPECT_NE(std::string(e.what()).find("challenge 9"), std::string::npos) << e.what();
    }
  }
  fs::resize_file(s.files.cache_dir / sdr::layer_file_name(1), 100);
  EXPECT_THROW(prove_commit1(params, graph, s.inputs, s.files), C1Error);
  fs::remove(s.files.cache_dir / "sc-02-data-tree-c.dat");
  EXPECT_THROW(prove_commit1(params, graph, s.inputs, s.files), C1Error);
}

TEST_F(C1Test, FfiJsonRoundTripAndShape) {
  for (const char* name : {"StackedDrg2KiBV1_1", "StackedDrg2KiBV1_1_Feat_SyntheticPoRep"}) {
    SCOPED_TRACE(name);
    const auto& proof = sdr::lookup_seal_proof(name);
    const sdr::Graph graph(proof);
    const auto params = PoRepParams::for_seal_proof(proof);
    const auto s = seal_spec(name);
    const auto out = prove_commit1(params, graph, s.inputs, s.files);
    Bytes32 ticket{};
    for (size_t i = 0; i < 32; ++i) ticket[i] = static_cast<uint8_t>(i);
    const auto text = c1_output_to_json(params, name, ticket, out);
    EXPECT_EQ(text, reference::c1_json(params, name, "2KiB", ticket, out));
    const auto j = nlohmann::ordered_json::parse(text);
    // serde field order and enum tagging.
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"registered_proof", "vanilla_proofs", "comm_r",
                                              "comm_d", "replica_id", "seed", "ticket"}));
    EXPECT_EQ(j["registered_proof"], name);
    const auto& p0 = j["vanilla_proofs"]["StackedDrg2KiBV1"][0][0];
    EXPECT_TRUE(p0["replica_column_proofs"]["c_x"]["column"]["_h"].is_null());
    EXPECT_EQ(p0["comm_d_proofs"]["data"]["Single"]["path"]["path"].size(), 6u);
    EXPECT_EQ(p0["comm_r_last_proof"]["data"]["Single"]["path"]["path"][0]["hashes"].size(), 7u);
    EXPECT_EQ(p0["labeling_proofs"][1]["layer_index"], 2);
    EXPECT_EQ(j["ticket"][31], 31);
    EXPECT_EQ(text.find(' '), std::string::npos);  // compact, like serde_json::to_vec

    const auto back = c1_output_from_json(params, text);
    EXPECT_EQ(back.registered_proof, name);
    // The document names its proof: parsing without params gives the same output.
    const auto named = c1_output_from_json(text);
    EXPECT_EQ(named.registered_proof, name);
    EXPECT_EQ(c1_output_to_json(params, name, ticket, named.output), text);
    EXPECT_EQ(back.ticket, ticket);
    EXPECT_EQ(c1_output_to_json(params, name, ticket, back.output), text);
    const auto v = verify_commit1(params, graph, back.output);
    EXPECT_TRUE(v.valid) << v.reason;
  }
  const auto params = PoRepParams::for_sector(2048);
  EXPECT_THROW(c1_output_from_json(params, "{"), C1Error);
  EXPECT_THROW(c1_output_from_json(params, "[]"), C1Error);
  try {
    c1_output_from_json(params, R"({"registered_proof":"StackedDrg2KiBV1_1","vanilla_proofs":{}})");
    ADD_FAILURE() << "accepted";
  } catch (const C1Error& e) {
    EXPECT_NE(std::string(e.what()).find("StackedDrg2KiBV1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c1_output_to_json(params, "StackedDrg32GiBV1_1", Bytes32{}, C1Output{}), C1Error);
  // Without params: the named proof must exist and be committable.
  EXPECT_THROW(c1_output_from_json("[1]"), C1Error);
  EXPECT_THROW(c1_output_from_json(R"({"registered_proof":7})"), C1Error);
  try {
    c1_output_from_json(R"({"registered_proof":"StackedDrg3KiBV1_1"})");
    ADD_FAILURE() << "unknown proof accepted";
  } catch (const C1Error& e) {
    EXPECT_NE(std::string(e.what()).find("registered_proof"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c1_output_from_json(R"({"registered_proof":"StackedDrg2KiBV1"})"), C1Error);
}

TEST(C1Json, WriterMatchesTheDomReferenceForEveryPathShape) {
  struct Case {
    uint64_t bytes;
    const char* name;
    const char* size;
    uint32_t layers;
  };
  for (const Case& c : {Case{2048, "StackedDrg2KiBV1_1", "2KiB", 2},
                        Case{8ULL << 20, "StackedDrg8MiBV1_1_Feat_SyntheticPoRep", "8MiB", 2},
                        Case{32ULL << 30, "StackedDrg32GiBV1_1", "32GiB", 11},
                        Case{64ULL << 30, "StackedDrg64GiBV1_1", "64GiB", 11}}) {
    SCOPED_TRACE(c.name);
    auto params = PoRepParams::for_sector(c.bytes);
    params.layers = c.layers;
    const auto out = random_shaped_output(c.bytes, c.layers, 3, static_cast<uint32_t>(c.bytes));
    Bytes32 ticket{};
    ticket.fill(0xfe);
    const auto text = c1_output_to_json(params, c.name, ticket, out);
    EXPECT_EQ(text, reference::c1_json(params, c.name, c.size, ticket, out));
    const auto back = c1_output_from_json(params, text);
    EXPECT_EQ(c1_output_to_json(params, c.name, ticket, back.output), text);
    EXPECT_EQ(back.ticket, ticket);
  }
  // A path of the wrong length is refused, not written.
  const auto params = PoRepParams::for_sector(2048);
  auto out = random_shaped_output(2048, 2, 1, 9);
  out.partitions[1][0].exp_parents[2].inclusion_proof.path.pop_back();
  EXPECT_THROW(c1_output_to_json(params, "StackedDrg2KiBV1_1", Bytes32{}, out), C1Error);
}

TEST(SynthProofsLayout, RecordSizesOfTheSpec) {
  auto p2k =
      PoRepParams::for_seal_proof(sdr::lookup_seal_proof("StackedDrg2KiBV1_1_Feat_SyntheticPoRep"));
  EXPECT_EQ(synth_proof_record_bytes(p2k), 8984u);
  EXPECT_EQ(synth_proofs_file_bytes(p2k), 96u + 64u * 8984u);
  auto p32g = PoRepParams::for_seal_proof(
      sdr::lookup_seal_proof("StackedDrg32GiBV1_1_Feat_SyntheticPoRep"));
  EXPECT_EQ(synth_proof_record_bytes(p32g), 42744u);
  EXPECT_EQ(synth_proofs_file_bytes(p32g), 96u + (uint64_t{1} << 18) * 42744u);
}

TEST_F(C1Test, SyntheticProofsFileWorkflow) {
  const char* name = "StackedDrg2KiBV1_1_Feat_SyntheticPoRep";
  const auto& proof = sdr::lookup_seal_proof(name);
  const sdr::Graph graph(proof);
  const auto params = PoRepParams::for_seal_proof(proof);
  const auto s = seal_spec(name);
  const auto direct = prove_commit1(params, graph, s.inputs, s.files);
  const fs::path file = s.files.cache_dir / kSynthProofsFileName;
  uint64_t last_progress = 0;
  SynthWriteOptions opt;
  opt.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_EQ(total, 64u);
    last_progress = done;
  };
  write_synthetic_proofs(params, graph, s.inputs, s.files, file, opt);
  EXPECT_EQ(last_progress, 64u);
  EXPECT_EQ(fs::file_size(file), synth_proofs_file_bytes(params));
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  // After the synthetic proofs exist, layers and TreeC are not needed any more.
  for (uint32_t l = 1; l <= proof.layers; ++l)
    fs::remove(s.files.cache_dir / sdr::layer_file_name(l));
  fs::remove(s.files.cache_dir / "sc-02-data-tree-c.dat");
  const auto from_file = read_synthetic_proofs(params, graph, s.inputs, file);
  const auto v = verify_commit1(params, graph, from_file);
  EXPECT_TRUE(v.valid) << v.reason;
  // Identical to proving directly from the layers.
  EXPECT_EQ(c1_output_to_json(params, name, Bytes32{}, from_file),
            c1_output_to_json(params, name, Bytes32{}, direct));
  // Other seeds select other records from the same file.
  auto other = s.inputs;
  other.seed[5] = 0x42;
  EXPECT_TRUE(
      verify_commit1(params, graph, read_synthetic_proofs(params, graph, other, file)).valid);

  // Damage: with one byte changed in every record, whichever records the seed selects fail.
  auto damaged = s.files.cache_dir / "damaged.dat";
  fs::copy_file(file, damaged);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    for (uint64_t rec = 0; rec < 64; ++rec) {
      f.seekp(static_cast<std::streamoff>(96 + rec * 8984 + 200 + rec * 131));
      const char x = 0x55;
      f.write(&x, 1);
    }
  }
  EXPECT_THROW(read_synthetic_proofs(params, graph, s.inputs, damaged), C1Error);
  fs::resize_file(damaged, 1000);
  EXPECT_THROW(read_synthetic_proofs(params, graph, s.inputs, damaged), C1Error);
  auto wrong = s.inputs;
  wrong.comm_d[0] ^= 1;
  EXPECT_THROW(read_synthetic_proofs(params, graph, wrong, file), C1Error);
  auto interactive = params;
  interactive.synthetic = false;
  EXPECT_THROW(read_synthetic_proofs(interactive, graph, s.inputs, file), C1Error);
  EXPECT_THROW(read_synthetic_proofs(params, graph, s.inputs, s.files.cache_dir / "missing"),
               C1Error);
}

TEST_F(C1Test, SyntheticProofsWriteCancelLeavesNothing) {
  const char* name = "StackedDrg2KiBV1_1_Feat_SyntheticPoRep";
  const auto& proof = sdr::lookup_seal_proof(name);
  const auto params = PoRepParams::for_seal_proof(proof);
  const auto s = seal_spec(name);
  const fs::path file = s.files.cache_dir / kSynthProofsFileName;
  SynthWriteOptions opt;
  opt.cancelled = [] { return true; };
  EXPECT_THROW(write_synthetic_proofs(params, sdr::Graph(proof), s.inputs, s.files, file, opt),
               C1Error);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  auto interactive = params;
  interactive.synthetic = false;
  EXPECT_THROW(write_synthetic_proofs(interactive, sdr::Graph(proof), s.inputs, s.files, file),
               C1Error);
}

}  // namespace
}  // namespace sealhost::proofs::c1
