#include <gtest/gtest.h>

#include "host/rpc/client.hpp"

namespace sealhost::rpc {
namespace {

TEST(ApiInfo, ParsesLotusTokenAndMultiaddr) {
  auto info = ApiInfo::parse("eyJhbGc.eyJBbGx.sig_-x:/ip4/127.0.0.1/tcp/2345/http\n");
  EXPECT_EQ(info.token, "eyJhbGc.eyJBbGx.sig_-x");
  EXPECT_EQ(info.host, "127.0.0.1");
  EXPECT_EQ(info.port, 2345);
  EXPECT_EQ(info.path, "/rpc/v0");
  EXPECT_EQ(info.address(), "127.0.0.1:2345");
}

TEST(ApiInfo, ParsesBareMultiaddrsOfEveryKind) {
  auto v6 = ApiInfo::parse("/ip6/::1/tcp/1234/http");
  EXPECT_TRUE(v6.token.empty());
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.address(), "[::1]:1234");
  EXPECT_EQ(ApiInfo::parse("/dns/miner.local/tcp/1/ws").host, "miner.local");
  EXPECT_EQ(ApiInfo::parse("/dns4/a/tcp/80").port, 80);
}

TEST(ApiInfo, ParsesUrls) {
  auto info = ApiInfo::parse("http://10.0.0.2:1234");
  EXPECT_EQ(info.host, "10.0.0.2");
  EXPECT_EQ(info.port, 1234);
  EXPECT_EQ(info.path, "/rpc/v0");
  auto with_token = ApiInfo::parse("tok.en.x:ws://[::1]:99/rpc/v1");
  EXPECT_EQ(with_token.token, "tok.en.x");
  EXPECT_EQ(with_token.host, "::1");
  EXPECT_EQ(with_token.port, 99);
  EXPECT_EQ(with_token.path, "/rpc/v1");
}

TEST(ApiInfo, RejectsBadInputWithGuidance) {
  for (const char* bad : {"", "tok:/ip4/1.2.3.4/udp/5/http", "/ip4/1.2.3.4/tcp/0/http",
                          "/ip4/1.2.3.4/tcp/70000", "/ip4/1.2.3.4", "/unix/x/tcp/1", "ftp://host:1",
                          "localhost:1234", "/ip4/1.2.3.4/tcp/1/https", "https://host:1"}) {
    try {
      (void)ApiInfo::parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("api info"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace sealhost::rpc
