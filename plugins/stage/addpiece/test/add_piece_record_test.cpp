// The addpiece JSON records on their own: shapes, versions, strictness.
#include "plugins/stage/addpiece/add_piece_record.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sealhost/sdk/error.hpp>

#include <string>

namespace sealhost::stage_addpiece {
namespace {

using ::testing::HasSubstr;

constexpr const char* kCid = "baga6ea4seaqdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy";

std::string error_of(const std::string& json) {
  try {
    (void)parse_input(json);
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << json;
  return {};
}

std::string with(const std::string& piece, const std::string& extra = "") {
  return R"({"v":1,"sector":{"miner":1000,"number":7,"size":8388608},"unsealed_path":"/u/s")" +
         extra + R"(,"piece":)" + piece + "}";
}

TEST(AddPieceRecord, DataInputRoundTrips) {
  AddPieceInput in;
  in.sector = {1000, 7, 8388608};
  in.unsealed_path = "/x/unsealed/s-t01000-7";
  in.existing_pieces = {{128, kCid}, {256, kCid}};
  in.piece.path = "/data/deal.car";
  in.piece.size = 1 << 20;
  in.piece.cid = kCid;
  const AddPieceInput back = parse_input(format_input(in));
  EXPECT_EQ(back.sector.miner, 1000u);
  EXPECT_EQ(back.sector.number, 7u);
  EXPECT_EQ(back.sector.size, 8388608u);
  EXPECT_EQ(back.unsealed_path, in.unsealed_path);
  ASSERT_EQ(back.existing_pieces.size(), 2u);
  EXPECT_EQ(back.existing_pieces[1].size, 256u);
  EXPECT_EQ(back.existing_pieces[1].cid, kCid);
  EXPECT_FALSE(back.piece.zero);
  EXPECT_EQ(back.piece.path, "/data/deal.car");
  EXPECT_EQ(back.piece.size, uint64_t{1} << 20);
  EXPECT_EQ(back.piece.cid, kCid);
}

TEST(AddPieceRecord, ZeroPieceAndDefaults) {
  const auto in = parse_input(with(R"({"zero":true,"size":8388608})"));
  EXPECT_TRUE(in.piece.zero);
  EXPECT_EQ(in.piece.size, 8388608u);
  EXPECT_TRUE(in.existing_pieces.empty()) << "existing_pieces defaults to none";
  const auto data = parse_input(with(R"({"path":"/d"})"));
  EXPECT_EQ(data.piece.size, 0u) << "size defaults to the payload's own piece";
  EXPECT_FALSE(data.piece.cid);
  const auto again = parse_input(format_input(in));
  EXPECT_TRUE(again.piece.zero);
  EXPECT_EQ(again.piece.size, 8388608u);
}

TEST(AddPieceRecord, MalformedInputsAreNamed) {
  EXPECT_THAT(error_of("not json"), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of("[1]"), HasSubstr("expected a JSON object"));
  EXPECT_THAT(error_of("{}"), HasSubstr("missing key \"v\""));
  EXPECT_THAT(error_of(R"({"v":2})"), HasSubstr("record version 2 is not supported"));
  EXPECT_THAT(error_of(R"({"v":"1"})"), HasSubstr("record version \"1\""));
  EXPECT_THAT(error_of(with(R"({"path":"/d"})", R"(,"existing_piece":[])")),
              HasSubstr("input: unknown key \"existing_piece\""));
  EXPECT_THAT(error_of(with(R"({"path":"/d","sise":4})")),
              HasSubstr("piece: unknown key \"sise\""));
  EXPECT_THAT(error_of(with(R"({"zero":true})")), HasSubstr("piece: missing key \"size\""));
  EXPECT_THAT(error_of(with(R"({"zero":false,"size":128})")), HasSubstr("must be true"));
  EXPECT_THAT(error_of(with(R"({"zero":true,"size":128,"path":"/d"})")),
              HasSubstr("unknown key \"path\""));
  EXPECT_THAT(error_of(with(R"({})")), HasSubstr("give either"));
  EXPECT_THAT(error_of(with(R"({"path":""})")), HasSubstr("piece.path: expected a non-empty"));
  EXPECT_THAT(error_of(with(R"({"zero":true,"size":-128})")),
              HasSubstr("piece.size: expected a non-negative integer, got -128"));
  EXPECT_THAT(error_of(with(R"({"zero":true,"size":1.5})")), HasSubstr("piece.size"));
  EXPECT_THAT(error_of(with(R"({"path":"/d"})", R"(,"existing_pieces":{})")),
              HasSubstr("existing_pieces: expected an array"));
  EXPECT_THAT(error_of(with(R"({"path":"/d"})", R"(,"existing_pieces":[{"size":128}])")),
              HasSubstr("existing_pieces[0]: missing key \"cid\""));
  EXPECT_THAT(
      error_of(
          R"({"v":1,"sector":{"miner":1,"number":2},"unsealed_path":"/u","piece":{"path":"/d"}})"),
      HasSubstr("sector: missing key \"size\""));
  EXPECT_THAT(error_of(R"({"v":1,"sector":[],"unsealed_path":"/u","piece":{"path":"/d"}})"),
              HasSubstr("sector: expected an object"));
}

TEST(AddPieceRecord, OutputRoundTripsWithVersionFirst) {
  AddPieceOutput out;
  out.pieces = {{128, kCid, true}, {256, kCid, false}};
  out.payload_size = 200;
  out.unsealed_size = 512;
  const std::string json = format_output(out);
  EXPECT_EQ(json.rfind("{\"v\":1,", 0), 0u) << json;
  const auto back = parse_output(json);
  ASSERT_EQ(back.pieces.size(), 2u);
  EXPECT_TRUE(back.pieces[0].padding);
  EXPECT_FALSE(back.pieces[1].padding);
  EXPECT_EQ(back.pieces[1].size, 256u);
  EXPECT_EQ(back.payload_size, 200u);
  EXPECT_EQ(back.unsealed_size, 512u);
  EXPECT_THROW(parse_output(R"({"v":1,"pieces":[],"payload_size":0,"unsealed_size":0})"),
               sdk::Error);
}

}  // namespace
}  // namespace sealhost::stage_addpiece
