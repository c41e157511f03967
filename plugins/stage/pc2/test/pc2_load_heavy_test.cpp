// The 8 MiB part of pc2_load_test (LABELS heavy: two full 8 MiB PC2 runs, ~20 s each on a loaded
// 2-core machine): the same random sector through sealhost.compute.cpu (loaded .so, resolved by
// the host) and through the builtin engine gives identical commitments and files.
#include "host/plugin/component.hpp"
#include "host/plugin/directory.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/stage/pc2/pc2_record.hpp"
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

TEST_F(LoadedPc2Test, EightMiBSectorSameCommitmentsOnBuiltinAndComputeCpu) {
  const auto in = random_sector(tmp_.path(), "a", 8 << 20, 77);
  const auto via_compute = parse_output(client({{"memory", "\"8MiB\""}}).run(format_input(in)));
  const auto sealed_compute = proofs::pc2::testing::read_file(in.sealed_path);
  const auto tree_c_compute = proofs::pc2::testing::read_file(via_compute.tree_c_paths[0]);
  const auto via_builtin =
      parse_output(client({{"compute", "\"builtin\""}, {"threads", "2"}}).run(format_input(in)));
  EXPECT_EQ(via_compute.compute, "sealhost.compute.cpu");
  EXPECT_EQ(via_builtin.compute, "builtin-cpu");
  EXPECT_EQ(via_compute.comm_c, via_builtin.comm_c);
  EXPECT_EQ(via_compute.comm_r_last, via_builtin.comm_r_last);
  EXPECT_EQ(via_compute.comm_r, via_builtin.comm_r);
  EXPECT_EQ(proofs::pc2::testing::read_file(in.sealed_path), sealed_compute);
  EXPECT_EQ(proofs::pc2::testing::read_file(via_builtin.tree_c_paths[0]), tree_c_compute);
  EXPECT_EQ(fs::file_size(via_builtin.tree_r_last_paths[0]), 18720U);
}

}  // namespace
}  // namespace sealhost::stage_pc2
