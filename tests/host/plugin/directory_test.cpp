// ComponentDirectory and the ABI 1.1 get_component service, through real plugins: what a stage
// plugin sees when it calls sdk::find_compute().
#include "host/plugin/directory.hpp"
#include "host/plugin/host_services.hpp"
#include "proofs/poseidon/poseidon.hpp"

#include <gtest/gtest.h>
#include <sealhost/sdk/compute.hpp>

#include <random>
#include <string>
#include <vector>

namespace sealhost::host {
namespace {

std::string plugin(const char* name) {
  return std::string(SEALHOST_TEST_PLUGIN_DIR) + "/" + name;
}

class Directory : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new PluginRegistry(host_services());
    ASSERT_FALSE(registry_->load_file(plugin("sealhost-compute-cpu.so")));
    ASSERT_FALSE(registry_->load_file(plugin("sealhost-storage-local.so")));
  }
  void SetUp() override { ComponentDirectory::global().bind(registry_); }
  void TearDown() override { ComponentDirectory::global().clear(); }
  static PluginRegistry* registry_;
};
PluginRegistry* Directory::registry_ = nullptr;

TEST_F(Directory, FindComputeHashesLikeTheLibrary) {
  auto compute = sdk::find_compute(host_services(), "sealhost.compute.cpu");
  EXPECT_EQ(compute.device_info().backend, "cpu");
  std::mt19937_64 rng(7);
  const size_t n = 33;
  std::vector<uint8_t> in(n * 8 * 32), out(n * 32), want(n * 32);
  for (size_t i = 0; i < n * 8; ++i) {
    proofs::field::Fr::from_u64(rng()).to_bytes(&in[i * 32]);
  }
  compute.poseidon_batch(8, sdk::kTagMerkleTree, in.data(), out.data(), n);
  proofs::poseidon::hash_batch_bytes(8, in.data(), want.data(), n);
  EXPECT_EQ(out, want);
}

TEST_F(Directory, OneSharedInstancePerId) {
  auto a = ComponentDirectory::global().get(SEALHOST_KIND_COMPUTE, "sealhost.compute.cpu");
  auto b = ComponentDirectory::global().get(SEALHOST_KIND_COMPUTE, "sealhost.compute.cpu");
  EXPECT_EQ(a.get(), b.get());
  void* inst = nullptr;
  const void* vt = nullptr;
  sdk::ErrorSink e;
  const auto* s = host_services();
  ASSERT_EQ(s->get_component(s->ctx, SEALHOST_KIND_COMPUTE, sdk::to_str("sealhost.compute.cpu"),
                             &inst, &vt, e.c()),
            SEALHOST_OK);
  EXPECT_EQ(inst, a->handle());
  EXPECT_EQ(vt, a->desc().vtable);
}

TEST_F(Directory, ConfiguredOptionsAreUsed) {
  auto ref = registry_->find("sealhost.compute.cpu");
  ASSERT_TRUE(ref);
  std::map<std::string, sdk::OptionSet, std::less<>> configured;
  sdk::OptionSet o(ref->desc->options, ref->desc->options_len);
  o.apply_defaults();
  o.set_text("threads", "3");
  configured.emplace("sealhost.compute.cpu", std::move(o));
  ComponentDirectory::global().bind(registry_, std::move(configured));
  EXPECT_EQ(sdk::find_compute(host_services(), "sealhost.compute.cpu").device_info().compute_units,
            3u);
}

TEST_F(Directory, UnknownIdNamesTheLoadedComponents) {
  try {
    sdk::find_compute(host_services(), "acme.compute.quantum");
    FAIL() << "expected an error";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    const std::string m = e.what();
    EXPECT_NE(m.find("acme.compute.quantum"), std::string::npos) << m;
    EXPECT_NE(m.find("sealhost.compute.cpu"), std::string::npos) << "lists what exists: " << m;
  }
}

TEST_F(Directory, WrongKindIsRefused) {
  try {
    sdk::find_compute(host_services(), "sealhost.storage.local");
    FAIL() << "expected an error";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("storage component"), std::string::npos) << e.what();
  }
}

TEST_F(Directory, UnboundDirectoryIsAClearError) {
  ComponentDirectory::global().clear();
  try {
    sdk::find_compute(host_services(), "sealhost.compute.cpu");
    FAIL() << "expected an error";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_FAILED_PRECONDITION);
  }
}

TEST_F(Directory, OldHostWithoutGetComponentIsRefused) {
  sealhost_host_services old = *host_services();
  old.struct_size = offsetof(sealhost_host_services, get_component);
  try {
    sdk::find_compute(&old, "sealhost.compute.cpu");
    FAIL() << "expected an error";
  } catch (const sdk::Error& e) {
    EXPECT_NE(std::string(e.what()).find("ABI 1.1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sealhost::host
