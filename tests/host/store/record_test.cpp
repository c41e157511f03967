#include "host/store/record.hpp"

#include <gtest/gtest.h>

#include <sealhost/sdk/testing.hpp>

#include "host/store/keys.hpp"

namespace sealhost::store {
namespace {

using nlohmann::json;
using sdk::testing::TempDir;

class RecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Env::open(tmp_.path());
    ASSERT_TRUE(opened) << opened.status().to_string();
    env_ = std::move(*opened);
  }
  Status put_raw(Db db, std::string_view key, std::string_view value) {
    return env_->write([&](WriteTxn& t) { return t.put(db, key, value); });
  }
  Result<Record> get(Db db, std::string_view key, std::string_view kind, std::uint32_t max) {
    auto r = env_->begin_read();
    if (!r) return r.status();
    return get_record(*r, db, key, kind, max);
  }

  TempDir tmp_;
  std::unique_ptr<Env> env_;
};

TEST_F(RecordTest, RoundTripKeepsDataAndVersion) {
  const json sector = {{"state", "PreCommit1"}, {"ticket", {{"epoch", 1200}}}, {"pieces", {1, 2}}};
  ASSERT_TRUE(env_->write(
      [&](WriteTxn& t) { return put_record(t, Db::kSectors, key_u64(42), sector, "sector", 2); }));
  auto r = get(Db::kSectors, key_u64(42), "sector", 2);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->data, sector);
}

TEST_F(RecordTest, StoredEnvelopeHasDocumentedShape) {
  ASSERT_TRUE(env_->write([&](WriteTxn& t) {
    return put_record(t, Db::kDeals, "d1", json{{"size", 2048}}, "deal", 1);
  }));
  auto r = env_->begin_read();
  ASSERT_TRUE(r);
  auto raw = r->get(Db::kDeals, "d1");
  ASSERT_TRUE(raw);
  const json envelope = json::parse(*raw);
  EXPECT_EQ(envelope, (json{{"v", 1}, {"kind", "deal"}, {"data", {{"size", 2048}}}}));
}

TEST_F(RecordTest, OlderVersionIsReturnedWithItsVersion) {
  ASSERT_TRUE(env_->write([&](WriteTxn& t) {
    return put_record(t, Db::kSectors, key_u64(1), json{{"old", true}}, "sector", 1);
  }));
  auto r = get(Db::kSectors, key_u64(1), "sector", 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version, 1u) << "the caller upgrades older records itself";
}

TEST_F(RecordTest, NewerVersionIsRefusedWithClearMessage) {
  ASSERT_TRUE(env_->write([&](WriteTxn& t) {
    return put_record(t, Db::kSectors, key_u64(42), json::object(), "sector", 3);
  }));
  auto r = get(Db::kSectors, key_u64(42), "sector", 2);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.status().is(Code::kVersionTooNew));
  EXPECT_EQ(r.status().message(),
            "sectors/42: record version 3 is newer than this sealhost understands (2): upgrade "
            "sealhost");
}

TEST_F(RecordTest, WrongKindIsCorruption) {
  ASSERT_TRUE(env_->write([&](WriteTxn& t) {
    return put_record(t, Db::kSectors, key_u64(5), json::object(), "deal", 1);
  }));
  auto r = get(Db::kSectors, key_u64(5), "sector", 1);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.status().is(Code::kCorruption));
  EXPECT_NE(r.status().message().find("sectors/5: record kind 'deal' where 'sector'"),
            std::string::npos)
      << r.status().message();
}

TEST_F(RecordTest, DamagedValuesAreCorruption) {
  const std::pair<const char*, const char*> cases[] = {
      {"not-json", "{\"v\":1,"},
      {"array", "[1,2]"},
      {"no-version", R"({"kind":"sector","data":{}})"},
      {"string-version", R"({"v":"1","kind":"sector","data":{}})"},
      {"negative-version", R"({"v":-1,"kind":"sector","data":{}})"},
      {"zero-version", R"({"v":0,"kind":"sector","data":{}})"},
      {"no-data", R"({"v":1,"kind":"sector"})"},
      {"no-kind", R"({"v":1,"data":{}})"},
  };
  for (const auto& [key, value] : cases) {
    ASSERT_TRUE(put_raw(Db::kSectors, key, value));
    auto r = get(Db::kSectors, key, "sector", 1);
    ASSERT_FALSE(r) << key;
    EXPECT_TRUE(r.status().is(Code::kCorruption)) << key << ": " << r.status().to_string();
    EXPECT_EQ(r.status().message().rfind(std::string("sectors/") + key + ": ", 0), 0u)
        << "the message names the record: " << r.status().message();
  }
}

TEST_F(RecordTest, MissingRecordIsNotFound) {
  auto r = get(Db::kSectors, key_u64(9), "sector", 1);
  EXPECT_TRUE(r.status().is_not_found());
}

TEST_F(RecordTest, EncodeRejectsBadArguments) {
  EXPECT_TRUE(encode_record(json::object(), "", 1).status().is(Code::kInvalidArgument));
  EXPECT_TRUE(encode_record(json::object(), "sector", 0).status().is(Code::kInvalidArgument));
  Status s = env_->write([&](WriteTxn& t) {
    return put_record(t, Db::kSectors, key_u64(1), json{{"bad", std::string("\xff\xfe")}}, "sector",
                      1);
  });
  EXPECT_TRUE(s.is(Code::kInvalidArgument)) << s.to_string();
  EXPECT_EQ(s.message().rfind("sectors/1: ", 0), 0u) << s.message();
}

TEST_F(RecordTest, InsertOnlyModeIsHonoured) {
  ASSERT_TRUE(env_->write([&](WriteTxn& t) {
    return put_record(t, Db::kJobs, "job-1", json{{"n", 1}}, "job", 1, PutMode::kInsertOnly);
  }));
  Status s = env_->write([&](WriteTxn& t) {
    return put_record(t, Db::kJobs, "job-1", json{{"n", 2}}, "job", 1, PutMode::kInsertOnly);
  });
  EXPECT_TRUE(s.is(Code::kAlreadyExists));
}

}  // namespace
}  // namespace sealhost::store
