// sealhost.stage.addpiece as the host sees it: the built .so loaded through the real loader and
// driven through the host's StageClient over the C ABI.
#include "host/plugin/component.hpp"
#include "host/plugin/host_services.hpp"
#include "host/plugin/registry.hpp"
#include "plugins/stage/addpiece/add_piece_record.hpp"
#include "plugins/stage/addpiece/test/test_files.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/abi.h>
#include <sealhost/sdk/option_set.hpp>
#include <sealhost/sdk/testing.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace sealhost::stage_addpiece {
namespace {

namespace stdfs = std::filesystem;
using host::ComponentInstance;
using host::PluginError;
using host::PluginRegistry;
using host::StageClient;
using sdk::testing::TempDir;
using ::testing::HasSubstr;
using testing::pattern;
using testing::write_file;

const stdfs::path kPluginFile =
    stdfs::path(SEALHOST_TEST_PLUGIN_DIR) / "sealhost-stage-addpiece.so";
constexpr const char* kComponentId = "sealhost.stage.addpiece";
constexpr uint64_t kMiB = 1024 * 1024;

class LoadedAddPieceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto failure = registry_.load_file(kPluginFile);
    ASSERT_FALSE(failure) << failure->message;
  }

  StageClient client(std::vector<std::pair<const char*, const char*>> overrides = {}) {
    auto ref = registry_.find(kComponentId);
    EXPECT_TRUE(ref) << kComponentId << " is not registered";
    sdk::OptionSet opts(ref->desc->options, ref->desc->options_len);
    opts.apply_defaults();
    for (const auto& [k, v] : overrides) opts.set_text(k, v);
    return StageClient(
        std::make_shared<ComponentInstance>(*ref, host::host_services(), std::move(opts)));
  }

  AddPieceInput input() const {
    AddPieceInput in;
    in.sector = {1000, 7, 8 * kMiB};
    in.unsealed_path = tmp_ / "s-t01000-7";
    return in;
  }

  PluginRegistry registry_{host::host_services()};
  TempDir tmp_;
};

TEST_F(LoadedAddPieceTest, DescriptorDescribesOneStageComponent) {
  ASSERT_EQ(registry_.plugins().size(), 1u);
  const auto& plugin = *registry_.plugins().front();
  EXPECT_EQ(plugin.path, kPluginFile.string());
  const auto& d = *plugin.descriptor;
  EXPECT_EQ(std::string(d.id), "sealhost.stage-addpiece");
  EXPECT_EQ(d.abi_major, uint32_t{SEALHOST_ABI_MAJOR});
  EXPECT_EQ(host::validate_descriptor(&d), "");
  auto ref = registry_.find(kComponentId);
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->desc->kind, SEALHOST_KIND_STAGE);
  std::vector<std::string> keys;
  for (size_t i = 0; i < ref->desc->options_len; ++i) keys.emplace_back(ref->desc->options[i].key);
  EXPECT_THAT(keys, ::testing::ElementsAre("threads", "fsync", "chunk"));
  EXPECT_EQ(client().stage(), "addpiece");
}

TEST_F(LoadedAddPieceTest, DataPieceThenFillThroughTheStageClient) {
  auto stage = client({{"threads", "2"}, {"chunk", "\"64KiB\""}});
  const std::string payload = tmp_ / "deal.car";
  write_file(payload, pattern(700000, 1));

  AddPieceInput first = input();
  first.piece.zero = true;
  first.piece.size = 128;
  const auto a = parse_output(stage.run(format_input(first)));
  ASSERT_EQ(a.pieces.size(), 1u);

  AddPieceInput second = input();
  second.existing_pieces = {{a.pieces[0].size, a.pieces[0].cid}};
  second.piece.path = payload;
  uint64_t last_done = 0, last_total = 0;
  host::JobState job([&](uint64_t done, uint64_t total, std::string_view) {
    last_done = done;
    last_total = total;
  });
  const auto b = parse_output(stage.run(format_input(second), &job));
  EXPECT_EQ(last_done, last_total);
  EXPECT_EQ(last_total, 2 * kMiB - 128) << "padding up to 1 MiB, then the 1 MiB piece";
  ASSERT_GE(b.pieces.size(), 2u);
  EXPECT_TRUE(b.pieces.front().padding);
  EXPECT_FALSE(b.pieces.back().padding);
  EXPECT_EQ(b.pieces.back().size, kMiB);
  EXPECT_EQ(b.payload_size, 700000u);
  EXPECT_EQ(b.unsealed_size, 2 * kMiB);
  EXPECT_EQ(stdfs::file_size(first.unsealed_path), 2 * kMiB);
}

TEST_F(LoadedAddPieceTest, ErrorsCrossTheBoundaryWithStatusAndMessage) {
  auto stage = client();
  AddPieceInput in = input();
  write_file(in.unsealed_path, std::vector<uint8_t>(3 * kMiB, 0));
  in.existing_pieces = {
      {2 * kMiB, "baga6ea4seaqnbnjq3oylj4s4luxsukg752aiwu2bfibjghyyysm7lisubbvrgjq"}};
  in.piece.zero = true;
  in.piece.size = kMiB;
  try {
    stage.run(format_input(in));
    FAIL() << "a file longer than its pieces was appended to";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_DATA_LOSS);
    EXPECT_THAT(e.what(), HasSubstr("3 MiB on disk, pieces say 2 MiB"));
  }
  try {
    stage.run("{\"v\":1}");
    FAIL() << "an incomplete record was accepted";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(), HasSubstr("missing key"));
  }
}

TEST_F(LoadedAddPieceTest, CancelThroughTheJobHandle) {
  auto stage = client({{"chunk", "\"64KiB\""}});
  const std::string payload = tmp_ / "deal.car";
  write_file(payload, pattern(kMiB, 2));
  AddPieceInput in = input();
  in.piece.path = payload;
  host::JobState job;
  job.cancel();
  try {
    stage.run(format_input(in), &job);
    FAIL() << "a cancelled job completed";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_CANCELLED);
  }
  EXPECT_FALSE(stdfs::exists(in.unsealed_path)) << "the file this call created is removed";
}

}  // namespace
}  // namespace sealhost::stage_addpiece
