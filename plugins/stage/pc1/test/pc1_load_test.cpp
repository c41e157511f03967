// sealhost.stage.pc1 as the host sees it: the built .so loaded through the real loader, its
// options validated, and a 2 KiB sector sealed through the host's StageClient over the C ABI.
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/stage/pc1/pc1_stage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/testing.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace sealhost::stage_pc1 {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kPluginFile = fs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-stage-pc1.so";

class LoadedPc1Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new host::PluginRegistry(host::host_services());
    auto failure = registry_->load_file(kPluginFile);
    ASSERT_FALSE(failure) << failure->message;
  }
  host::StageClient client(std::vector<std::pair<std::string, std::string>> overrides = {}) {
    auto ref = registry_->find(Pc1Stage::kId);
    EXPECT_TRUE(ref);
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    opts.set_text("parent_cache_dir", (tmp_ / "parents").string());
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return host::StageClient(
        std::make_shared<host::ComponentInstance>(*ref, host::host_services(), std::move(opts)));
  }
  // PC1 of one 2 KiB sector of zeros through the ABI (sector `number`, ticket bytes `ticket`).
  Pc1Output seal_zero_2kib(host::StageClient& c, uint64_t number, uint8_t ticket) {
    const fs::path unsealed = tmp_ / ("unsealed-" + std::to_string(number));
    std::ofstream(unsealed, std::ios::binary) << std::string(2048, '\0');
    Pc1Input in;
    Pc1SectorInput s;
    s.sector = {1000, number, 2048};
    s.ticket.fill(ticket);
    s.unsealed_path = unsealed.string();
    s.cache_dir = (tmp_ / ("cache-" + std::to_string(number))).string();
    in.sectors.push_back(s);
    host::JobState job;
    return parse_output(c.run(format_input(in), &job));
  }
  static host::PluginRegistry* registry_;
  sdk::testing::TempDir tmp_{"sealhost-pc1-load"};
};
host::PluginRegistry* LoadedPc1Test::registry_ = nullptr;

TEST_F(LoadedPc1Test, DescribesItselfAndItsOptions) {
  auto ref = registry_->find(Pc1Stage::kId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_STAGE);
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.push_back(ref->desc->options[i].key);
  EXPECT_THAT(keys,
              ::testing::ElementsAre("threads", "batch_size", "parent_cache_dir", "verify_cache",
                                     "fsync", "layer_io", "keep_layer_buffers",
                                     "layer_buffer_idle_seconds", "reserve_layer_buffers"));
  EXPECT_EQ(client().stage(), "pc1");
}

TEST_F(LoadedPc1Test, SealsA2KiBSectorThroughTheAbi) {
  auto c = client({{"fsync", "false"}});
  const auto out = seal_zero_2kib(c, 1, 1);
  ASSERT_EQ(out.sectors.size(), 1u);
  // The 2 KiB zero-sector vector (tests/vectors/e2e.json, e2e.2k.zero.StackedDrg2KiBV1_1).
  EXPECT_EQ(stage::hex(out.sectors[0].replica_id),
            "3e75e87332cd5d60132c1f9f9a8362e2e4cf190b46f4fd636fd8864b842d170b");
  EXPECT_EQ(out.sectors[0].layers.size(), 2u);
}

TEST_F(LoadedPc1Test, ErrorsCrossTheAbiWithTheirCode) {
  auto c = client();
  try {
    c.run(R"({"v":1,"sector":{"miner":1,"number":1,"size":2048},"ticket":")" +
          std::string(64, '1') + R"(","unsealed_path":"/nonexistent/x","cache_dir":"/tmp/x"})");
    FAIL() << "expected an error";
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/x"));
  }
}

TEST_F(LoadedPc1Test, BadOptionIsRefusedAtCreate) {
  auto ref = registry_->find(Pc1Stage::kId);
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  opts.set_text("parent_cache_dir", "");
  EXPECT_THROW(host::ComponentInstance(*ref, host::host_services(), std::move(opts)),
               host::PluginError);
  // A reservation for an unknown proof type: refused when the component is created, naming the
  // option.
  sdk::OptionSet reserve(ref->desc->options, ref->desc->options_len);
  reserve.apply_defaults();
  reserve.set_text("parent_cache_dir", (tmp_ / "parents").string());
  reserve.set_text("reserve_layer_buffers", "StackedDrg3GiBV1_1");
  try {
    host::ComponentInstance(*ref, host::host_services(), std::move(reserve));
    ADD_FAILURE() << "created with a bad reserve_layer_buffers";
  } catch (const host::PluginError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("reserve_layer_buffers")) << e.what();
  }
}

// A reservation through the loader: the component comes up and seals a sector of that type.
TEST_F(LoadedPc1Test, ReservesLayerBuffersWhenCreated) {
  auto c = client({{"fsync", "false"}, {"reserve_layer_buffers", "2KiB-v1.1"}});
  const auto out = seal_zero_2kib(c, 2, 2);
  ASSERT_EQ(out.sectors.size(), 1u);
  EXPECT_EQ(out.sectors[0].layers.size(), 2u);
}

}  // namespace
}  // namespace sealhost::stage_pc1
