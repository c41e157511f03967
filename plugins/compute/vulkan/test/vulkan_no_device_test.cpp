// No Vulkan driver: the loader is pointed at a driver manifest that does not exist (before this
// process makes its first Vulkan call), as on a machine without mesa-vulkan-drivers or a GPU
// driver. Creating the component must fail cleanly, with UNAVAILABLE and a message naming the fix,
// both directly and through the real loader.
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/compute/vulkan/vulkan_compute.hpp"
#include "plugins/compute/vulkan/vulkan_context.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/abi.h>
#include <sealhost/sdk/option_set.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

namespace sealhost::compute_vulkan {
namespace {

using ::testing::HasSubstr;

class NoDriverEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string missing = std::string(SEALHOST_TEST_BINARY_DIR) + "/no-such-vulkan-icd.json";
    // Both spellings: VK_DRIVER_FILES (loader >= 1.3.207) and the older VK_ICD_FILENAMES.
    ::setenv("VK_DRIVER_FILES", missing.c_str(), 1);
    ::setenv("VK_ICD_FILENAMES", missing.c_str(), 1);
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new NoDriverEnvironment);

TEST(VulkanNoDeviceTest, CreateFailsWithUnavailableNamingTheFix) {
  try {
    VulkanCompute c{VulkanOptions{}};
    FAIL() << "a component was created without any Vulkan driver";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_UNAVAILABLE);
    EXPECT_THAT(e.what(), HasSubstr(kNoDeviceMessage));
  }
}

TEST(VulkanNoDeviceTest, BadOptionsAreReportedBeforeTheMissingDevice) {
  VulkanOptions o;
  o.batch = 3;
  try {
    VulkanCompute c{o};
    FAIL() << "batch = 3 was accepted";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("batch 3: out of range"));
  }
}

TEST(VulkanNoDeviceTest, TheLoadedPluginFailsCreateTheSameWay) {
  host::PluginRegistry registry(host::host_services());
  const auto path = std::filesystem::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-compute-vulkan.so";
  auto failure = registry.load_file(path);
  ASSERT_FALSE(failure) << "the plugin loads without a driver; only create() needs one: "
                        << failure->message;
  auto ref = registry.find("sealhost.compute.vulkan");
  ASSERT_TRUE(ref);
  sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
  opts.apply_defaults();
  try {
    host::ComponentInstance inst(*ref, host::host_services(), std::move(opts));
    FAIL() << "create() succeeded without any Vulkan driver";
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_UNAVAILABLE);
    EXPECT_THAT(e.what(),
                HasSubstr("no Vulkan device: install a Vulkan driver (e.g. mesa-vulkan-drivers) "
                          "or use sealhost.compute.cpu"));
  }
}

}  // namespace
}  // namespace sealhost::compute_vulkan
