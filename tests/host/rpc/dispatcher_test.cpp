#include "host/rpc/dispatcher.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sealhost::rpc {
namespace {

using nlohmann::json;

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() {
    registry_.add("Filecoin.Version", Perm::kRead, [](const json&, const CallContext&) {
      return json{{"Version", "test"}};
    });
    registry_.add("Test.Add", Perm::kWrite, [](const json& params, const CallContext& ctx) {
      Params p(params, ctx.method);
      p.expect_count(2);
      return json(p.get<std::int64_t>(0, "a") + p.get<std::int64_t>(1, "b"));
    });
    registry_.add("Test.Admin", Perm::kAdmin,
                  [](const json&, const CallContext&) { return json("ok"); });
    registry_.add("Test.Throw", Perm::kRead, [](const json&, const CallContext&) -> json {
      throw std::runtime_error("disk on fire");
    });
    registry_.add("Test.ThrowInt", Perm::kRead,
                  [](const json&, const CallContext&) -> json { throw 42; });
    registry_.add("Test.AppError", Perm::kRead, [](const json&, const CallContext&) -> json {
      throw RpcError(1234, "sector 7 not found", json{{"sector", 7}});
    });
    registry_.add("Test.Perms", Perm::kRead, [this](const json&, const CallContext& ctx) {
      ++calls_;
      return json(ctx.perms.names());
    });
    registry_.add(
        "Test.Slow", Perm::kRead, [](const json&, const CallContext&) { return json(1); },
        Execution::kBlocking);
  }

  json call(std::string_view body, PermSet perms = PermSet::all()) {
    CallContext ctx;
    ctx.perms = perms;
    const auto out = dispatcher_.handle(body, ctx);
    return out.empty() ? json() : json::parse(out);
  }

  RpcRegistry registry_;
  JsonRpcDispatcher dispatcher_{registry_};
  int calls_ = 0;
};

TEST_F(DispatcherTest, SingleCallReturnsResultAndEchoesId) {
  auto r = call(R"({"jsonrpc":"2.0","id":"abc","method":"Filecoin.Version","params":[]})");
  EXPECT_EQ(r["jsonrpc"], "2.0");
  EXPECT_EQ(r["id"], "abc");
  EXPECT_EQ(r["result"]["Version"], "test");
  EXPECT_FALSE(r.contains("error"));
}

TEST_F(DispatcherTest, ParamsMayBeOmitted) {
  auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"Filecoin.Version"})");
  EXPECT_EQ(r["result"]["Version"], "test");
}

TEST_F(DispatcherTest, ParseErrorIsMinus32700WithNullId) {
  auto r = call(R"({"jsonrpc":"2.0","id":1,"method":)");
  EXPECT_EQ(r["error"]["code"], kParseError);
  EXPECT_TRUE(r["id"].is_null());
}

TEST_F(DispatcherTest, InvalidRequestsAreMinus32600) {
  for (const char* body :
       {R"(42)", R"({"id":1,"method":"Filecoin.Version"})",
        R"({"jsonrpc":"1.0","id":1,"method":"Filecoin.Version"})",
        R"({"jsonrpc":"2.0","id":1,"method":7})",
        R"({"jsonrpc":"2.0","id":{},"method":"Filecoin.Version"})",
        R"({"jsonrpc":"2.0","id":1,"method":"Filecoin.Version","params":"x"})", R"([])"}) {
    auto r = call(body);
    ASSERT_TRUE(r.is_object()) << body;
    EXPECT_EQ(r["error"]["code"], kInvalidRequest) << body;
  }
}

TEST_F(DispatcherTest, UnknownMethodIsMinus32601) {
  auto r = call(R"({"jsonrpc":"2.0","id":5,"method":"Filecoin.Nope"})");
  EXPECT_EQ(r["error"]["code"], kMethodNotFound);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("Filecoin.Nope"), std::string::npos);
  EXPECT_EQ(r["id"], 5);
}

TEST_F(DispatcherTest, WrongParamsAreMinus32602WithClearMessage) {
  auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.Add","params":[1,"two"]})");
  EXPECT_EQ(r["error"]["code"], kInvalidParams);
  EXPECT_EQ(r["error"]["message"], "Test.Add: param 1 (b): expected integer, got string");
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.Add","params":[1]})");
  EXPECT_EQ(r["error"]["message"], "Test.Add: expected 2 params, got 1");
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.Add","params":{"a":1}})");
  EXPECT_EQ(r["error"]["code"], kInvalidParams);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.Add","params":[40,2]})");
  EXPECT_EQ(r["result"], 42);
}

TEST_F(DispatcherTest, HandlerExceptionsBecomeErrorsNotCrashes) {
  auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.Throw"})");
  EXPECT_EQ(r["error"]["code"], kInternalError);
  EXPECT_EQ(r["error"]["message"], "disk on fire");
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.ThrowInt"})");
  EXPECT_EQ(r["error"]["code"], kInternalError);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.AppError"})");
  EXPECT_EQ(r["error"]["code"], 1234);
  EXPECT_EQ(r["error"]["message"], "sector 7 not found");
  EXPECT_EQ(r["error"]["data"]["sector"], 7);
}

TEST_F(DispatcherTest, PermissionIsCheckedPerMethod) {
  auto r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.Admin"})", PermSet::up_to(Perm::kSign));
  EXPECT_EQ(r["error"]["code"], kPermissionDenied);
  EXPECT_EQ(r["error"]["data"]["required"], "admin");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("read, write, sign"), std::string::npos);

  auto prepared = dispatcher_.prepare(R"({"jsonrpc":"2.0","id":1,"method":"Test.Admin"})",
                                      PermSet{Perm::kRead});
  EXPECT_TRUE(prepared.forbidden) << "a single refused request maps to HTTP 403";
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"Test.Perms"})", PermSet::up_to(Perm::kWrite));
  EXPECT_EQ(r["result"], json({"read", "write"})) << "the handler sees the caller's perms";
}

TEST_F(DispatcherTest, BatchKeepsOrderAndSkipsNotifications) {
  auto r = call(R"([
    {"jsonrpc":"2.0","id":1,"method":"Test.Add","params":[1,2]},
    {"jsonrpc":"2.0","method":"Test.Perms"},
    {"jsonrpc":"2.0","id":2,"method":"Test.Admin"},
    {"jsonrpc":"2.0","id":3,"method":"Nope"},
    17
  ])",
                PermSet::up_to(Perm::kWrite));
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 4U) << r.dump();
  EXPECT_EQ(r[0]["result"], 3);
  EXPECT_EQ(r[1]["error"]["code"], kPermissionDenied);
  EXPECT_EQ(r[2]["error"]["code"], kMethodNotFound);
  EXPECT_EQ(r[3]["error"]["code"], kInvalidRequest);
  EXPECT_EQ(calls_, 1) << "the notification still ran";
  auto prepared = dispatcher_.prepare(R"([{"jsonrpc":"2.0","id":2,"method":"Test.Admin"}])", {});
  EXPECT_FALSE(prepared.forbidden) << "refusals inside a batch are per-call errors";
}

TEST_F(DispatcherTest, NotificationsProduceNoResponse) {
  EXPECT_TRUE(call(R"({"jsonrpc":"2.0","method":"Test.Perms"})").is_null());
  EXPECT_TRUE(call(R"({"jsonrpc":"2.0","method":"Nope"})").is_null());
  EXPECT_TRUE(call(R"([{"jsonrpc":"2.0","method":"Test.Perms"}])").is_null());
  EXPECT_EQ(calls_, 2);
}

TEST_F(DispatcherTest, BlockingMethodsAskForTheWorkerPool) {
  EXPECT_TRUE(
      dispatcher_.prepare(R"({"jsonrpc":"2.0","id":1,"method":"Test.Slow"})", PermSet::all())
          .needs_worker);
  EXPECT_FALSE(
      dispatcher_.prepare(R"({"jsonrpc":"2.0","id":1,"method":"Test.Add"})", PermSet::all())
          .needs_worker);
}

TEST(RpcRegistry, RejectsDuplicatesAndEmptyHandlers) {
  RpcRegistry r;
  r.add("A.B", Perm::kRead, [](const json&, const CallContext&) { return json(); });
  EXPECT_THROW(r.add("A.B", Perm::kRead, [](const json&, const CallContext&) { return json(); }),
               std::logic_error);
  EXPECT_THROW(r.add("A.C", Perm::kRead, Handler{}), std::logic_error);
  EXPECT_THROW(r.add("", Perm::kRead, [](const json&, const CallContext&) { return json(); }),
               std::logic_error);
  EXPECT_EQ(r.names(), std::vector<std::string>{"A.B"});
}

TEST(Params, TypeAndRangeChecks) {
  const json params = json::parse(R"([-1, 300, 1.5, "s", true, null, [1,2]])");
  Params p(params, "M");
  EXPECT_EQ(p.get<int>(0, "neg"), -1);
  EXPECT_THROW((void)p.get<std::uint64_t>(0, "neg"), RpcError);
  EXPECT_THROW((void)p.get<std::uint8_t>(1, "big"), RpcError);
  EXPECT_EQ(p.get<std::uint16_t>(1, "big"), 300);
  EXPECT_DOUBLE_EQ(p.get<double>(2, "f"), 1.5);
  EXPECT_THROW((void)p.get<int>(2, "f"), RpcError);
  EXPECT_EQ(p.get<std::string>(3, "s"), "s");
  EXPECT_TRUE(p.get<bool>(4, "b"));
  EXPECT_EQ(p.get_or<int>(5, "null", 9), 9);
  EXPECT_EQ(p.get_or<int>(50, "absent", 8), 8);
  EXPECT_EQ(p.get<std::vector<int>>(6, "list"), (std::vector<int>{1, 2}));
  EXPECT_THROW((void)p.get<std::vector<int>>(3, "list"), RpcError);
  try {
    (void)p.get<int>(9, "missing");
    FAIL() << "missing param accepted";
  } catch (const RpcError& e) {
    EXPECT_EQ(e.code(), kInvalidParams);
    EXPECT_EQ(std::string(e.what()), "M: param 9 (missing): missing (expected 10+ params, got 7)");
  }
}

}  // namespace
}  // namespace sealhost::rpc
