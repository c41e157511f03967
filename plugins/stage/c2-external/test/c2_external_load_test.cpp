// sealhost.stage.c2-external as the host sees it: the built .so loaded through the real loader,
// its options validated at create, a proof transported from a script prover through the host's
// StageClient over the C ABI, and errors crossing the ABI with their status.
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/stage/c2-external/c2_stage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/testing.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace sealhost::stage_c2 {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kPluginFile = fs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-stage-c2-external.so";

class LoadedC2Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new host::PluginRegistry(host::host_services());
    auto failure = registry_->load_file(kPluginFile);
    ASSERT_FALSE(failure) << failure->message;
  }
  sdk::OptionSet options(std::vector<std::pair<std::string, std::string>> overrides) {
    auto ref = registry_->find(C2ExternalStage::kId);
    EXPECT_TRUE(ref);
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    opts.set_text("work_dir", "\"" + (tmp_ / "work").string() + "\"");
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return opts;
  }
  host::StageClient client(std::vector<std::pair<std::string, std::string>> overrides) {
    auto ref = registry_->find(C2ExternalStage::kId);
    return host::StageClient(std::make_shared<host::ComponentInstance>(
        *ref, host::host_services(), options(std::move(overrides))));
  }
  fs::path script(const std::string& name, const std::string& body) {
    const fs::path p = tmp_ / name;
    std::ofstream(p) << body;
    fs::permissions(p, fs::perms::owner_all);
    return p;
  }
  std::string input() {
    const fs::path c1 = tmp_ / "c1.json";
    std::ofstream(c1) << R"({"registered_proof":"StackedDrg2KiBV1_1","vanilla_proofs":{}})";
    return format_input({{1000, 5, 2048}, c1.string()});
  }
  static host::PluginRegistry* registry_;
  sdk::testing::TempDir tmp_{"sealhost-c2-load"};
};
host::PluginRegistry* LoadedC2Test::registry_ = nullptr;

TEST_F(LoadedC2Test, DescribesItselfAndItsOptions) {
  auto ref = registry_->find(C2ExternalStage::kId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_STAGE);
  EXPECT_EQ(host::validate_descriptor(ref->plugin->descriptor), "");
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.push_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("command", "url", "timeout", "proof_format", "work_dir",
                                           "check_proof_size"));
  const auto p = script("p.sh", "#!/bin/sh\nexit 0\n");
  EXPECT_EQ(client({{"command", "[\"" + p.string() + "\"]"}}).stage(), "c2");
}

TEST_F(LoadedC2Test, TransportsAProofThroughTheAbi) {
  std::vector<uint8_t> proof(192);
  for (size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<uint8_t>(255 - i);
  const std::string hex = stage::hex(proof.data(), proof.size());
  const auto p = script("prover.sh",
                        "#!/bin/sh\ntest -s \"$1\" || exit 7\n"
                        "echo 'proof: " +
                            hex + "'\n");
  auto c = client({{"command", "[\"" + p.string() + "\", \"{input}\"]"}, {"timeout", "\"20s\""}});
  std::vector<std::string> phases;
  host::JobState job([&](uint64_t, uint64_t, std::string_view ph) { phases.emplace_back(ph); });
  const auto out = parse_output(c.run(input(), &job));
  EXPECT_EQ(out.proof, proof);
  EXPECT_EQ(out.sector.number, 5u);
  ASSERT_GE(phases.size(), 2u);  // plus "waiting for …" once a second on a slow machine
  EXPECT_EQ(phases.front(), "prove");
  EXPECT_EQ(phases.back(), "done");
}

TEST_F(LoadedC2Test, ErrorsCrossTheAbiWithTheirCode) {
  const auto p = script("fail.sh", "#!/bin/sh\necho 'parameters missing' >&2\nexit 1\n");
  auto c = client({{"command", "[\"" + p.string() + "\"]"}});
  try {
    c.run(input());
    FAIL() << "expected an error";
  } catch (const host::PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_UNAVAILABLE);
    EXPECT_THAT(e.what(), HasSubstr("parameters missing"));
  }
}

TEST_F(LoadedC2Test, BadOptionsAreRefusedAtCreate) {
  auto ref = registry_->find(C2ExternalStage::kId);
  // Neither command nor url.
  EXPECT_THROW(host::ComponentInstance(*ref, host::host_services(), options({})),
               host::PluginError);
  EXPECT_THROW(host::ComponentInstance(*ref, host::host_services(),
                                       options({{"url", "\"https://prover/\""}})),
               host::PluginError);
}

}  // namespace
}  // namespace sealhost::stage_c2
