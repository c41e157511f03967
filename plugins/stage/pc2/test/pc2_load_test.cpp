// sealhost.stage.pc2 as the host sees it: the built .so loaded through the real loader next to
// sealhost-compute-cpu.so, the compute backend resolved through the host's component directory
// (ABI 1.1 get_component), and the stage driven through the host's StageClient over the C ABI.
#include "host/plugin/component.hpp"
#include "host/plugin/directory.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/stage/pc2/compute_engine.hpp"
#include "plugins/stage/pc2/pc2_record.hpp"
#include "proofs/pc2/pc2.hpp"
#include "proofs/sdr/graph.hpp"
#include "proofs/sdr/labels.hpp"
#include "proofs/sdr/seal_proof.hpp"
#include "tests/proofs/pc2/pc2_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/abi.h>
#include <nlohmann/json.hpp>
#include <sealhost/sdk/option_set.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sealhost::stage_pc2 {
namespace {

namespace fs = std::filesystem;
using host::ComponentDirectory;
using host::ComponentInstance;
using host::PluginError;
using host::PluginRegistry;
using host::StageClient;
using proofs::pc2::testing::TempDir;
using ::testing::HasSubstr;

const fs::path kPluginDir(SEALHOST_TEST_PLUGIN_DIR);
constexpr const char* kComponentId = "sealhost.stage.pc2";

class LoadedPc2Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new PluginRegistry(host::host_services());
    for (const char* so : {"sealhost-stage-pc2.so", "sealhost-compute-cpu.so"}) {
      auto failure = registry_->load_file(kPluginDir / so);
      ASSERT_FALSE(failure) << so << ": " << failure->message;
    }
  }
  void SetUp() override { ComponentDirectory::global().bind(registry_); }
  void TearDown() override { ComponentDirectory::global().clear(); }

  static StageClient client(std::vector<std::pair<const char*, const char*>> overrides = {}) {
    auto ref = registry_->find(kComponentId);
    EXPECT_TRUE(ref) << kComponentId << " is not registered";
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return StageClient(
        std::make_shared<ComponentInstance>(*ref, host::host_services(), std::move(opts)));
  }

  static PluginRegistry* registry_;
  TempDir tmp_;
};
PluginRegistry* LoadedPc2Test::registry_ = nullptr;

// A sector directory: layer files and unsealed data (random canonical values).
Pc2Input random_sector(const fs::path& root, const std::string& name, uint64_t size,
                       uint64_t seed) {
  Pc2Input in;
  in.sector = {1000, seed, size};
  in.proof = size == 2048 ? "2KiB-v1.1" : "8MiB-v1.1";
  in.cache_dir = (root / (name + "-cache")).string();
  fs::create_directories(in.cache_dir);
  in.unsealed_path = (root / (name + "-unsealed")).string();
  in.sealed_path = (root / (name + "-sealed")).string();
  proofs::pc2::testing::make_sector(in.cache_dir, in.unsealed_path, size, 2, seed);
  return in;
}

TEST_F(LoadedPc2Test, DescriptorDescribesOneStageComponent) {
  const auto ref = registry_->find(kComponentId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_STAGE);
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.emplace_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("compute", "threads", "memory"));
  EXPECT_EQ(client().stage(), "pc2");
}

TEST_F(LoadedPc2Test, VectorSectorOnTheCpuComputeComponent) {
  std::ifstream vf(std::string(SEALHOST_TEST_VECTORS) + "/e2e.json");
  nlohmann::json v;
  const auto doc = nlohmann::json::parse(vf);
  for (const auto& x : doc.at("vectors")) {
    if (x.at("id") == "e2e.2k.zero.StackedDrg2KiBV1_1_Feat_SyntheticPoRep") v = x;
  }
  const auto& e = v.at("expected");
  const auto& proof = proofs::sdr::lookup_seal_proof("2KiB-synth");
  const auto replica_id = *from_hex(e.at("replica_id_hex").get<std::string>());
  const auto labels =
      proofs::sdr::label_in_memory(proofs::sdr::Graph(proof), replica_id, proof.layers);
  Pc2Input in;
  in.sector = {1000, 1, 2048};
  in.proof = "StackedDrg2KiBV1_1_Feat_SyntheticPoRep";
  in.cache_dir = (tmp_.path() / "cache").string();
  fs::create_directories(in.cache_dir);
  for (uint32_t l = 1; l <= 2; ++l) {
    proofs::pc2::testing::write_file(
        fs::path(in.cache_dir) / proofs::sdr::layer_file_name(l),
        std::vector<uint8_t>(labels.label(l, 0), labels.label(l, 0) + 2048));
  }
  in.unsealed_path = (tmp_.path() / "unsealed").string();
  proofs::pc2::testing::write_file(in.unsealed_path, std::vector<uint8_t>(2048, 0));
  in.sealed_path = (tmp_.path() / "sealed").string();
  in.comm_d = *from_hex(e.at("comm_d_hex").get<std::string>());
  in.replica_id = replica_id;

  uint64_t last_done = 0, last_total = 0;
  host::JobState job([&](uint64_t done, uint64_t total, std::string_view) {
    last_done = done;
    last_total = total;
  });
  const auto out = parse_output(client().run(format_input(in), &job));
  EXPECT_EQ(out.compute, "sealhost.compute.cpu");
  EXPECT_EQ(to_hex(out.comm_c), e.at("comm_c_hex"));
  EXPECT_EQ(to_hex(out.comm_r_last), e.at("comm_r_last_hex"));
  EXPECT_EQ(to_hex(out.comm_r), e.at("comm_r_hex"));
  EXPECT_EQ(out.sealed_cid, e.at("sealed_cid"));
  EXPECT_EQ(last_total, 128U);
  EXPECT_EQ(last_done, last_total);
}

TEST_F(LoadedPc2Test, RandomSectorSameCommitmentsOnBuiltinAndComputeCpu) {
  // The 8 MiB version of this check is pc2_load_heavy_test (LABELS heavy).
  const auto in = random_sector(tmp_.path(), "a", 2048, 77);
  const auto via_compute = parse_output(client({{"memory", "\"64KiB\""}}).run(format_input(in)));
  const auto sealed_compute = proofs::pc2::testing::read_file(in.sealed_path);
  const auto via_builtin =
      parse_output(client({{"compute", "\"builtin\""}, {"threads", "2"}}).run(format_input(in)));
  EXPECT_EQ(via_compute.compute, "sealhost.compute.cpu");
  EXPECT_EQ(via_builtin.compute, "builtin-cpu");
  EXPECT_EQ(via_compute.comm_c, via_builtin.comm_c);
  EXPECT_EQ(via_compute.comm_r_last, via_builtin.comm_r_last);
  EXPECT_EQ(via_compute.comm_r, via_builtin.comm_r);
  EXPECT_EQ(proofs::pc2::testing::read_file(in.sealed_path), sealed_compute);
}

TEST_F(LoadedPc2Test, ElevenLayerColumnsAndSubTreesThroughTheComputeComponent) {
  // 32/64GiB sectors hash 11-label columns; check that path on the loaded compute.cpu with a
  // 32KiB test shape (16 base trees, sub 8, top 2) against the builtin engine.
  ComputeEngine compute(sdk::find_compute(host::host_services(), "sealhost.compute.cpu"));
  proofs::pc2::CpuPoseidonEngine builtin(2);
  const auto in11 = proofs::pc2::testing::random_nodes(300 * 11, 3);
  std::vector<uint8_t> a(300 * 32), b(300 * 32);
  compute.hash_batch(11, proofs::pc2::PoseidonTag::kMerkleTree, in11.data(), a.data(), 300);
  builtin.hash_batch(11, proofs::pc2::PoseidonTag::kMerkleTree, in11.data(), b.data(), 300);
  EXPECT_EQ(a, b);

  const fs::path cache = tmp_.path() / "c11";
  fs::create_directories(cache);
  const auto sector = proofs::pc2::testing::make_sector(cache, tmp_.path() / "u11", 32768, 11, 4);
  proofs::pc2::Pc2Options opt;
  opt.engine = &compute;
  opt.chunk_leaves = 8;
  const auto out = proofs::pc2::run_pc2(
      {32768, 11, cache, tmp_.path() / "u11", tmp_.path() / "s11", std::nullopt, std::nullopt},
      opt);
  const auto ref = proofs::pc2::testing::reference_pc2(sector);
  EXPECT_EQ(out.comm_c, ref.comm_c);
  EXPECT_EQ(out.comm_r_last, ref.comm_r_last);
  EXPECT_EQ(out.comm_r, ref.comm_r);
  EXPECT_EQ(out.tree_c_paths.size(), 16U);
}

TEST_F(LoadedPc2Test, UnknownComputeComponentFailsAtCreation) {
  try {
    client({{"compute", "\"acme.compute.quantum\""}});
    FAIL() << "created with a compute component that does not exist";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("acme.compute.quantum"));
    EXPECT_THAT(e.what(), HasSubstr("builtin"));
  }
}

TEST_F(LoadedPc2Test, ErrorsAndCancelCrossTheBoundary) {
  auto stage = client();
  auto in = random_sector(tmp_.path(), "b", 2048, 5);
  in.proof = "StackedDrg8MiBV1_1";
  try {
    stage.run(format_input(in));
    FAIL() << "a 2KiB sector was sealed as 8MiB";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("does not match proof"));
  }
  in.proof = "2KiB-v1.1";
  host::JobState job;
  job.cancel();
  try {
    stage.run(format_input(in), &job);
    FAIL() << "a cancelled job completed";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_CANCELLED);
  }
  EXPECT_FALSE(fs::exists(in.sealed_path));
}

}  // namespace
}  // namespace sealhost::stage_pc2
