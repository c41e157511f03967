// sealhost.compute.cpu as the host sees it: the built .so loaded through the real loader, driven
// through the host's typed ComputeClient over the C ABI.
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

namespace sealhost::compute_cpu {
namespace {

namespace stdfs = std::filesystem;
using host::ComponentInstance;
using host::ComputeClient;
using host::PluginError;
using host::PluginRegistry;
using ::testing::HasSubstr;

const stdfs::path kPluginFile = stdfs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-compute-cpu.so";
constexpr const char* kComponentId = "sealhost.compute.cpu";

class LoadedCpuComputeTest : public ::testing::Test {
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

TEST_F(LoadedCpuComputeTest, DescriptorDescribesOneComputeComponent) {
  ASSERT_EQ(registry_.plugins().size(), 1u);
  const auto& plugin = *registry_.plugins().front();
  EXPECT_EQ(plugin.path, kPluginFile.string());
  EXPECT_FALSE(plugin.is_static);
  const auto& d = *plugin.descriptor;
  EXPECT_EQ(std::string(d.id), "sealhost.compute-cpu");
  EXPECT_EQ(d.abi_major, uint32_t{SEALHOST_ABI_MAJOR});
  EXPECT_LE(d.abi_minor, uint32_t{SEALHOST_ABI_MINOR});
  EXPECT_EQ(host::validate_descriptor(&d), "");

  auto ref = registry_.find(kComponentId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_COMPUTE);
  EXPECT_EQ(ref->desc->flags & SEALHOST_COMPONENT_SINGLE_THREADED, 0u)
      << "the host may call one instance from several threads";
  EXPECT_EQ(registry_.components(SEALHOST_KIND_COMPUTE).size(), 1u);
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.emplace_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("threads", "batch_size"));
}

TEST_F(LoadedCpuComputeTest, HashesThroughTheComputeClient) {
  auto c = client();
  // Leaves 0..63 of an arity-8 tree: two rows (8 nodes, then the root).
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

  std::vector<uint8_t> batch(8 * 32);
  c.poseidon_batch(8, sdk::kTagMerkleTree, leaves.data(), batch.data(), 8);
  EXPECT_TRUE(std::equal(batch.begin(), batch.end(), want.begin()));
}

TEST_F(LoadedCpuComputeTest, ValidatedOptionsReachTheComponent) {
  auto d = client({{"threads", "3"}, {"batch_size", "7"}}).device_info();
  EXPECT_EQ(d.backend, "cpu");
  EXPECT_EQ(d.compute_units, 3u);
  EXPECT_THAT(d.name, HasSubstr("(3 threads)"));
  EXPECT_GT(d.memory_bytes, 0u);
}

TEST_F(LoadedCpuComputeTest, ErrorsCrossTheBoundaryWithStatusAndMessage) {
  auto c = client();
  std::vector<uint8_t> buf(64 * 32, 0xff);
  try {
    c.poseidon_batch(5, 0, buf.data(), buf.data(), 1);
    FAIL() << "arity 5 was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("use one of 2, 4, 8, 11, 16, 24, 36"));
  }
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
}  // namespace sealhost::compute_cpu
