// End to end: a 2KiB sector sealed here with the real PC1 labels (proofs/sdr) and PC2
// (proofs/pc2) — commitments equal the spec's model vectors — is then proven and verified with
// Window and Winning PoSt straight from PC2's outputs (sealed file, tree-r-last store, p_aux,
// t_aux), and its PoRep challenges are derived from the same replica_id / comm_r.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "proofs/challenges/challenges.hpp"
#include "proofs/fr32/fr32.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/post/vanilla.hpp"
#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sdr/seal_proof.hpp"

namespace sealhost::proofs::post {
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
  fs::path dir;
  ReplicaInfo info;
  Node replica_id{};
};

Sealed seal_2kib(const fs::path& dir, const std::string& proof_name) {
  const auto& v = vector_by_id("post.e2e.2kib");
  const auto& e = v["expected"][proof_name];
  const auto& proof = sdr::lookup_seal_proof(proof_name);
  Sealed s;
  s.dir = dir;
  s.replica_id = node_of(e["replica_id_hex"]);
  const auto cache = dir / "cache";
  fs::create_directories(cache);
  const auto labels = sdr::label_in_memory(sdr::Graph(proof), s.replica_id, proof.layers);
  for (uint32_t l = 1; l <= proof.layers; ++l) {
    write_file(cache / pc2::layer_file_name(l),
               std::vector<uint8_t>(labels.label(l, 0), labels.label(l, 0) + 2048));
  }
  std::vector<uint8_t> data(2032);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>((7 * i + 3) % 256);
  write_file(dir / "unsealed", fr32::pad(data));
  pc2::CpuPoseidonEngine engine(1);
  pc2::Pc2Options opt;
  opt.engine = &engine;
  pc2::Pc2Input in;
  in.sector_bytes = 2048;
  in.layers = proof.layers;
  in.cache_dir = cache;
  in.unsealed_path = dir / "unsealed";
  in.sealed_path = dir / "sealed";
  in.replica_id = s.replica_id;
  const auto out = pc2::run_pc2(in, opt);
  EXPECT_EQ(out.comm_c, node_of(e["comm_c_hex"]));
  EXPECT_EQ(out.comm_r_last, node_of(e["comm_r_last_hex"]));
  EXPECT_EQ(out.comm_r, node_of(e["comm_r_hex"]));
  s.info.sector_id = v["input"]["sector_id"].get<uint64_t>();
  s.info.comm_r = out.comm_r;
  s.info.cache_dir = cache;
  s.info.replica_path = dir / "sealed";
  return s;
}

class PostEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("sealhost_post_e2e_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(PostEndToEnd, WindowAndWinningFromPc2Outputs) {
  for (const char* name : {"StackedDrg2KiBV1_1", "StackedDrg2KiBV1_1_Feat_SyntheticPoRep"}) {
    SCOPED_TRACE(name);
    const auto s = seal_2kib(root_ / name, name);
    ASSERT_TRUE(fs::exists(s.info.cache_dir / "t_aux"));
    Bytes32 rnd{};
    rnd[0] = 0x11;
    rnd[31] = 0x2a;
    const PublicSector pub{s.info.sector_id, s.info.comm_r};
    for (int64_t id : {5, 10}) {
      const auto config = PoStConfig::for_registered_proof(id);
      const auto out = prove_window(config, rnd, std::span(&s.info, 1));
      ASSERT_TRUE(out.faults.empty()) << out.faults[0].reason;
      const auto parts = partition_vanilla_proofs(config, out.proofs);
      const auto v = verify_all_partitions(config, rnd, std::span(&pub, 1), parts);
      EXPECT_TRUE(v.valid) << v.reason;
    }
    const auto winning = PoStConfig::for_registered_proof(0);
    const auto w = prove_winning(winning, rnd, s.info);
    ASSERT_TRUE(w.faults.empty()) << w.faults[0].reason;
    EXPECT_TRUE(verify_all_partitions(winning, rnd, std::span(&pub, 1),
                                      partition_vanilla_proofs(winning, w.proofs))
                    .valid);
    // Corrupting the sealed file at a challenged leaf makes the sector faulty.
    const auto leaves = challenges::post_sector_challenges(winning, rnd, s.info.sector_id, 0);
    {
      std::fstream f(s.info.replica_path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(leaves[0] * 32));
      const char zero[4] = {1, 2, 3, 4};
      f.write(zero, 4);
    }
    EXPECT_EQ(prove_winning(winning, rnd, s.info).faults.size(), 1u);
  }
}

TEST_F(PostEndToEnd, PoRepChallengesOfTheSealedSectors) {
  // The spec's model challenges for seed 32 x 0x07 (challenges-post.md §1, §3.2) from the
  // replica_id / comm_r this test reproduces.
  const Bytes32 seed = [] {
    Bytes32 b{};
    b.fill(7);
    return b;
  }();
  const auto v11 = seal_2kib(root_ / "v11", "StackedDrg2KiBV1_1");
  EXPECT_EQ(challenges::interactive_porep_challenges(v11.replica_id, seed, 64, 0, 2),
            (std::vector<uint64_t>{9, 44}));
  const auto syn = seal_2kib(root_ / "syn", "StackedDrg2KiBV1_1_Feat_SyntheticPoRep");
  const challenges::SyntheticChallenges set(syn.replica_id, syn.info.comm_r, 64);
  EXPECT_EQ(set.porep_challenges(seed, 0, 2), (std::vector<uint64_t>{12, 4}));
}

}  // namespace
}  // namespace sealhost::proofs::post
