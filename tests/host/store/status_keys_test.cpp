#include <gtest/gtest.h>

#include <stdexcept>

#include "host/store/keys.hpp"
#include "host/store/status.hpp"

namespace sealhost::store {
namespace {

TEST(StatusTest, OkHasNoMessage) {
  Status s = Status::ok();
  EXPECT_TRUE(s.is_ok());
  EXPECT_TRUE(static_cast<bool>(s));
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "ok");
}

TEST(StatusTest, FailureCarriesCodeAndMessage) {
  Status s = Status::not_found("sectors/1: not found");
  EXPECT_FALSE(s.is_ok());
  EXPECT_TRUE(s.is_not_found());
  EXPECT_TRUE(s.is(Code::kNotFound));
  EXPECT_EQ(s.to_string(), "not found: sectors/1: not found");
  Status copy = s;
  EXPECT_EQ(copy.message(), s.message()) << "copies share the message";
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 7);
  EXPECT_TRUE(good.status().is_ok());

  Result<int> bad = Status::io_error("disk gone");
  EXPECT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Code::kIoError);
  EXPECT_THROW(bad.value(), std::logic_error) << "reading a failed result is a programmer bug";
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternalError) {
  Result<int> r = Status::ok();
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

TEST(KeysTest, U64IsBigEndianSoOrderIsNumeric) {
  EXPECT_EQ(key_u64(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_LT(key_u64(255), key_u64(256)) << "byte order must equal numeric order";
  EXPECT_LT(key_u64(1), key_u64(1ull << 40));
  EXPECT_EQ(parse_key_u64(key_u64(42)), 42u);
  EXPECT_FALSE(parse_key_u64("short").has_value());
}

TEST(KeysTest, PairRoundTripsAndSortsByFirstThenSecond) {
  const auto k = key_u64_pair(7, 9);
  ASSERT_EQ(k.size(), 16u);
  const auto p = parse_key_u64_pair(k);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->first, 7u);
  EXPECT_EQ(p->second, 9u);
  EXPECT_LT(key_u64_pair(1, 1000), key_u64_pair(2, 0));
  EXPECT_FALSE(parse_key_u64_pair(key_u64(1)).has_value());
}

TEST(KeysTest, DescribeKeyIsReadable) {
  EXPECT_EQ(describe_key("next_sector"), "next_sector");
  EXPECT_EQ(describe_key(key_u64(42)), "42");
  EXPECT_EQ(describe_key(key_u64_pair(42, 3)), "42#3");
  EXPECT_EQ(describe_key(std::string("\x00\xff\x10", 3)), "0x00ff10");
  EXPECT_EQ(to_hex("\x01\xab"), "01ab");
}

}  // namespace
}  // namespace sealhost::store
