// sealhost.compute.vulkan as the host sees it: the built .so loaded through the real loader,
// driven through the host's typed ComputeClient over the C ABI.
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "proofs/poseidon/poseidon.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/abi.h>
#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/option_set.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sealhost::compute_vulkan {
namespace {

namespace stdfs = std::filesystem;
using host::ComponentInstance;
using host::ComputeClient;
using host::PluginError;
using host::PluginRegistry;
using ::testing::HasSubstr;

const stdfs::path kPluginFile =
    stdfs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-compute-vulkan.so";
constexpr const char* kComponentId = "sealhost.compute.vulkan";

class LoadedVulkanComputeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto failure = registry_.load_file(kPluginFile);
    ASSERT_FALSE(failure) << failure->message;
  }

  ComputeClient client(std::vector<std::pair<const char*, const char*>> overrides = {}) {
    auto ref = registry_.find(kComponentId);
    EXPECT_TRUE(ref) << kComponentId << " is not registered";
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return ComputeClient(
        std::make_shared<ComponentInstance>(*ref, host::host_services(), std::move(opts)));
  }

  PluginRegistry registry_{host::host_services()};
};

TEST_F(LoadedVulkanComputeTest, DescriptorDescribesOneComputeComponent) {
  ASSERT_EQ(registry_.plugins().size(), 1u);
  const auto& plugin = *registry_.plugins().front();
  const auto& d = *plugin.descriptor;
  EXPECT_EQ(std::string(d.id), "sealhost.compute-vulkan");
  EXPECT_EQ(d.abi_major, uint32_t{SEALHOST_ABI_MAJOR});
  EXPECT_EQ(host::validate_descriptor(&d), "");
  auto ref = registry_.find(kComponentId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_COMPUTE);
  EXPECT_EQ(ref->desc->flags & SEALHOST_COMPONENT_SINGLE_THREADED, 0u)
      << "the host may call one instance from several threads";
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.emplace_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("device", "batch", "memory_limit"));
}

TEST_F(LoadedVulkanComputeTest, BuildsATreeThroughTheComputeClient) {
  auto c = client({{"batch", "64"}});
  std::vector<uint8_t> leaves(64 * 32, 0);
  for (size_t i = 0; i < 64; ++i) leaves[i * 32] = static_cast<uint8_t>(i);
  std::vector<uint8_t> rows(9 * 32);
  uint64_t done = 0, total = 0;
  host::JobState job([&](uint64_t d, uint64_t t, std::string_view) {
    done = d;
    total = t;
  });
  c.tree_build(8, leaves.data(), 64, rows.data(), &job);
  EXPECT_EQ(done, 9u);
  EXPECT_EQ(total, 9u);
  std::vector<uint8_t> want(9 * 32);
  proofs::poseidon::hash_batch_bytes(8, leaves.data(), want.data(), 8);
  proofs::poseidon::hash_batch_bytes(8, want.data(), want.data() + 8 * 32, 1);
  EXPECT_EQ(rows, want);
}

TEST_F(LoadedVulkanComputeTest, ValidatedOptionsReachTheComponent) {
  auto d = client({{"device", "\"0\""}, {"memory_limit", "\"32MiB\""}}).device_info();
  EXPECT_EQ(d.backend, "vulkan");
  EXPECT_FALSE(d.name.empty());
  EXPECT_GT(d.memory_bytes, 0u);
}

TEST_F(LoadedVulkanComputeTest, CreateErrorsCrossTheBoundary) {
  try {
    client({{"device", "\"no-such-gpu\""}});
    FAIL() << "an unknown device was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("device \"no-such-gpu\": no such Vulkan device"));
  }
  try {
    client({{"memory_limit", "\"1MiB\""}});
    FAIL() << "a 1 MiB memory_limit was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("memory_limit 1048576 bytes: too small"));
  }
}

TEST_F(LoadedVulkanComputeTest, CallErrorsCrossTheBoundary) {
  auto c = client();
  std::vector<uint8_t> buf(64 * 32, 0xff);
  try {
    std::vector<uint8_t> out(32);
    c.poseidon_batch(2, 0, buf.data(), out.data(), 1);
    FAIL() << "a non-canonical input was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("input element 0"));
  }
}

}  // namespace
}  // namespace sealhost::compute_vulkan
