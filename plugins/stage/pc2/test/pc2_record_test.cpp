#include "plugins/stage/pc2/pc2_record.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sealhost/sdk/error.hpp>

namespace sealhost::stage_pc2 {
namespace {

using ::testing::HasSubstr;

Pc2Input sample() {
  Pc2Input in;
  in.sector = {1000, 7, 2048};
  in.proof = "StackedDrg2KiBV1_1";
  in.cache_dir = "/c";
  in.unsealed_path = "/u";
  in.sealed_path = "/s";
  in.comm_d[0] = 0xab;
  return in;
}

std::string error_of(const std::string& json) {
  try {
    parse_input(json);
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.code(), SEALHOST_E_INVALID_ARGUMENT);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << json;
  return "";
}

TEST(Pc2Record, InputRoundTrips) {
  auto in = sample();
  auto back = parse_input(format_input(in));
  EXPECT_EQ(back.sector.number, 7U);
  EXPECT_EQ(back.proof, in.proof);
  EXPECT_EQ(back.comm_d, in.comm_d);
  EXPECT_FALSE(back.replica_id);
  in.replica_id = Bytes32{};
  (*in.replica_id)[31] = 0x3f;
  back = parse_input(format_input(in));
  ASSERT_TRUE(back.replica_id);
  EXPECT_EQ(*back.replica_id, *in.replica_id);
}

TEST(Pc2Record, RejectsMalformedInput) {
  EXPECT_THAT(error_of("not json"), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of(R"({"v":2})"), HasSubstr("record version 2"));
  std::string good = format_input(sample());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_THAT(error_of(with("\"proof\"", "\"prof\"")), HasSubstr("unknown key \"prof\""));
  EXPECT_THAT(error_of(with("\"comm_d\":\"ab", "\"comm_d\":\"zz")), HasSubstr("64 hex digits"));
  EXPECT_THAT(error_of(with("\"size\":2048", "\"size\":-1")), HasSubstr("sector.size"));
  EXPECT_THAT(error_of(with("\"sealed_path\":\"/s\"", "\"sealed_path\":\"\"")),
              HasSubstr("sealed_path"));
  EXPECT_THAT(error_of(with(",\"cache_dir\":\"/c\"", "")), HasSubstr("missing key \"cache_dir\""));
}

TEST(Pc2Record, OutputRoundTrips) {
  Pc2Output out;
  out.comm_c[0] = 1;
  out.comm_r_last[1] = 2;
  out.comm_r[2] = 3;
  out.sealed_cid = "bagboea4b5abc";
  out.sealed_path = "/s";
  out.tree_c_paths = {"/c/sc-02-data-tree-c.dat"};
  out.tree_r_last_paths = {"/c/sc-02-data-tree-r-last.dat"};
  out.p_aux_path = "/c/p_aux";
  out.t_aux_path = "/c/t_aux";
  out.compute = "builtin-cpu";
  const auto back = parse_output(format_output(out));
  EXPECT_EQ(back.comm_c, out.comm_c);
  EXPECT_EQ(back.comm_r_last, out.comm_r_last);
  EXPECT_EQ(back.comm_r, out.comm_r);
  EXPECT_EQ(back.tree_c_paths, out.tree_c_paths);
  EXPECT_EQ(back.compute, out.compute);
  EXPECT_THROW(parse_output(R"({"v":1,"comm_c":"00"})"), sdk::Error);
}

TEST(Pc2Record, HexHelpersAreStrict) {
  EXPECT_FALSE(from_hex(std::string(63, '0')));
  EXPECT_FALSE(from_hex(std::string(62, '0') + "0g"));
  const auto b = from_hex(std::string(62, '0') + "Ff");
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)[31], 0xff);
  EXPECT_EQ(to_hex(*b), std::string(62, '0') + "ff");
}

}  // namespace
}  // namespace sealhost::stage_pc2
