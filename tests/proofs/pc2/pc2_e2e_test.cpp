// End to end with the real PC1 labels: proofs/sdr labels -> layer files -> run_pc2 -> comm_c,
// comm_r_last, comm_r and the sealed CID equal the research vectors (tests/vectors/e2e.json,
// area 6-end-to-end).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "proofs/cid/cid.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sdr/seal_proof.hpp"
#include "proofs/sha256/sha256.hpp"
#include "tests/proofs/pc2/pc2_test_util.hpp"

namespace sealhost::proofs::pc2 {
namespace {

namespace fs = std::filesystem;
using testing::hex;

nlohmann::json vector(const std::string& id) {
  std::ifstream in(std::string(SEALHOST_TEST_VECTORS) + "/e2e.json");
  const auto doc = nlohmann::json::parse(in);
  for (const auto& v : doc.at("vectors")) {
    if (v.at("id") == id) return v;
  }
  ADD_FAILURE() << "vector " << id << " missing from tests/vectors/e2e.json";
  return {};
}

sdr::Bytes32 b32(const nlohmann::json& j) {
  return sdr::bytes32_from_hex(j.get<std::string>(), "vector");
}

// Labels `graph` for `replica_id`, writes the layer files and an all-zero unsealed file (zero
// piece data is fr32-padded to zeros), runs PC2 and checks the commitments of `e`.
void check_sector(const sdr::Graph& graph, uint32_t layers, const sdr::ReplicaId& replica_id,
                  const nlohmann::json& e) {
  testing::TempDir tmp;
  const auto cache = tmp.path() / "cache";
  fs::create_directories(cache);
  const auto labels = sdr::label_in_memory(graph, replica_id, layers);
  const uint64_t bytes = graph.nodes() * 32;
  for (uint32_t l = 1; l <= layers; ++l) {
    std::vector<uint8_t> layer(labels.label(l, 0), labels.label(l, 0) + bytes);
    testing::write_file(cache / layer_file_name(l), layer);
  }
  if (e.contains("L1_n0")) {
    EXPECT_EQ(hex(labels.label(1, 0), 32), e.at("L1_n0"));
    EXPECT_EQ(hex(labels.label(2, graph.nodes() - 1), 32), e.at("L2_n63"));
  }
  testing::write_file(tmp.path() / "unsealed", std::vector<uint8_t>(bytes, 0));
  CpuPoseidonEngine engine(2);
  Pc2Options opt;
  opt.engine = &engine;
  Pc2Input in{bytes,        layers,      cache, tmp.path() / "unsealed", tmp.path() / "sealed",
              std::nullopt, std::nullopt};
  // Layers labelled for another replica are refused before anything is written.
  in.replica_id = replica_id;
  in.replica_id->at(5) ^= 1;
  try {
    run_pc2(in, opt);
    ADD_FAILURE() << "layers of another replica accepted";
  } catch (const Pc2Error& err) {
    EXPECT_EQ(err.kind(), Pc2ErrorKind::kCorrupt) << err.what();
    EXPECT_NE(std::string(err.what()).find("replica_id"), std::string::npos) << err.what();
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "sealed"));
  in.replica_id = replica_id;
  const auto out = run_pc2(in, opt);
  EXPECT_EQ(hex(out.comm_c), e.at("comm_c_hex"));
  EXPECT_EQ(hex(out.comm_r_last), e.at("comm_r_last_hex"));
  EXPECT_EQ(hex(out.comm_r), e.at("comm_r_hex"));
  if (e.contains("sealed_cid")) {
    EXPECT_EQ(cid::sealed_cid(out.comm_r), e.at("sealed_cid"));
  }
  if (e.contains("sha256_replica")) {
    const auto sealed = testing::read_file(tmp.path() / "sealed");
    EXPECT_EQ(hex(sha256::digest(sealed)), e.at("sha256_replica"));
  }
}

TEST(Pc2EndToEnd, TwoKiBZeroSectorsFromRealLabels) {
  for (const char* id :
       {"e2e.2k.zero.StackedDrg2KiBV1_1", "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep"}) {
    SCOPED_TRACE(id);
    const auto v = vector(id);
    const auto& in = v.at("input");
    const auto& proof = sdr::lookup_seal_proof(in.at("registered_proof").get<std::string>());
    const auto replica_id = sdr::replica_id(
        b32(in.at("prover_id_hex")), in.at("sector_id").get<uint64_t>(), b32(in.at("ticket_hex")),
        b32(v.at("expected").at("comm_d_hex")), sdr::porep_id(proof));
    ASSERT_EQ(sdr::to_hex(replica_id), v.at("expected").at("replica_id_hex"));
    check_sector(sdr::Graph(proof), proof.layers, replica_id, v.at("expected"));
  }
}

TEST(Pc2EndToEnd, FourKiBTestShapeWithSubTrees) {
  const auto v = vector("e2e.shape.4k");
  const auto& in = v.at("input");
  const auto porep = b32(in.at("porep_id_hex"));
  const auto replica_id =
      sdr::replica_id(b32(in.at("prover_id_hex")), in.at("sector_id").get<uint64_t>(),
                      b32(in.at("ticket_hex")), b32(v.at("expected").at("comm_d_hex")), porep);
  ASSERT_EQ(sdr::to_hex(replica_id), v.at("expected").at("replica_id_hex"));
  check_sector(sdr::Graph(128, porep, sdr::ApiVersion::V1_1_0), 2, replica_id, v.at("expected"));
}

}  // namespace
}  // namespace sealhost::proofs::pc2
