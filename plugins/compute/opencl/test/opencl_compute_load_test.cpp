// sealhost.compute.opencl as the host sees it: the built .so loaded through the real loader,
// driven through the host's typed ComputeClient over the C ABI. The NoOpenClDevice tests run in
// their own ctest entry (opencl_compute_no_device_test) with the ICD loader pointed at an empty
// vendor directory; in the ordinary run they skip.
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "proofs/poseidon/poseidon.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/abi.h>
#include <sealhost/sdk/compute.hpp>
#include <sealhost/sdk/option_set.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sealhost::compute_opencl {
namespace {

namespace stdfs = std::filesystem;
using host::ComponentInstance;
using host::ComputeClient;
using host::PluginError;
using host::PluginRegistry;
using ::testing::HasSubstr;

const stdfs::path kPluginFile =
    stdfs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-compute-opencl.so";
constexpr const char* kComponentId = "sealhost.compute.opencl";

bool expect_no_opencl() {
  const char* v = std::getenv("SEALHOST_TEST_EXPECT_NO_OPENCL");
  return v && std::string(v) == "1";
}

class LoadedOpenClComputeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (expect_no_opencl()) GTEST_SKIP() << "run with OpenCL hidden: only NoOpenClDevice applies";
    auto failure = registry_.load_file(kPluginFile);
    ASSERT_FALSE(failure) << failure->message;
  }

  std::shared_ptr<ComponentInstance> instance(
      std::vector<std::pair<const char*, const char*>> overrides = {}) {
    auto ref = registry_.find(kComponentId);
    EXPECT_TRUE(ref) << kComponentId << " is not registered";
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return std::make_shared<ComponentInstance>(*ref, host::host_services(), std::move(opts));
  }

  PluginRegistry registry_{host::host_services()};
};

TEST_F(LoadedOpenClComputeTest, DescriptorDescribesOneComputeComponent) {
  ASSERT_EQ(registry_.plugins().size(), 1u);
  const auto& d = *registry_.plugins().front()->descriptor;
  EXPECT_EQ(std::string(d.id), "sealhost.compute-opencl");
  EXPECT_EQ(host::validate_descriptor(&d), "");
  auto ref = registry_.find(kComponentId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_COMPUTE);
  EXPECT_EQ(ref->desc->flags & SEALHOST_COMPONENT_SINGLE_THREADED, 0u)
      << "the host may call one instance from several threads";
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.emplace_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("platform", "device", "batch_size", "memory_limit",
                                           "local_size", "field_kernel"));
}

TEST_F(LoadedOpenClComputeTest, HashesThroughTheComputeClient) {
  ComputeClient c(instance(
      {{"batch_size", "3"}, {"memory_limit", "\"64MiB\""}, {"field_kernel", "\"portable\""}}));
  EXPECT_EQ(c.device_info().backend, "opencl");
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

TEST_F(LoadedOpenClComputeTest, ErrorsCrossTheBoundaryWithStatusAndMessage) {
  try {
    instance({{"device", "\"no such device\""}});
    FAIL() << "a device matching nothing was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("option 'device'"));
  }
  ComputeClient c(instance());
  std::vector<uint8_t> buf(64 * 32, 0xff), out(32);
  try {
    c.poseidon_batch(2, 0, buf.data(), out.data(), 1);
    FAIL() << "a non-canonical input was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("input element 0"));
  }
}

// Only meaningful with OCL_ICD_VENDORS pointing at an empty directory (its own ctest entry).
TEST(NoOpenClDevice, CreateFailsWithAMessageNamingTheFix) {
  if (!expect_no_opencl()) GTEST_SKIP() << "needs SEALHOST_TEST_EXPECT_NO_OPENCL=1";
  PluginRegistry registry{host::host_services()};
  auto failure = registry.load_file(kPluginFile);
  ASSERT_FALSE(failure) << "the plugin loads without any OpenCL device: " << failure->message;
  auto ref = registry.find(kComponentId);
  ASSERT_TRUE(ref);
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  try {
    ComponentInstance instance(*ref, host::host_services(), std::move(opts));
    FAIL() << "created a component with no OpenCL platform";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
    EXPECT_THAT(e.what(), HasSubstr("no OpenCL platform"));
    EXPECT_THAT(e.what(), HasSubstr("pocl-opencl-icd"));
    EXPECT_THAT(e.what(), HasSubstr("sealhost.compute.cpu"));
  }
}

}  // namespace
}  // namespace sealhost::compute_opencl
