// RpcServer and RpcClient over real sockets on 127.0.0.1, port 0.
#include "host/rpc/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "host/rpc/client.hpp"

namespace sealhost::rpc {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;
using namespace std::chrono_literals;

struct HttpReply {
  int status = 0;
  std::string body;
  bool keep_alive = false;
  std::string header(http::field f) const {
    auto it = headers.find(f);
    return it == headers.end() ? "" : std::string(it->value());
  }
  http::fields headers;
  json json_body() const { return json::parse(body); }
};

// A blocking keep-alive HTTP connection (test side).
class HttpConn {
 public:
  explicit HttpConn(std::uint16_t port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
  }

  HttpReply request(http::verb verb, std::string_view target, std::string body,
                    std::optional<std::string> token, http::fields extra = {}) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& f : extra) req.set(f.name_string(), f.value());
    if (token) req.set(http::field::authorization, "Bearer " + *token);
    if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream_, req);
    // A plain response (default 8 MiB body limit) is plenty for these replies.
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    HttpReply reply;
    reply.status = static_cast<int>(res.result_int());
    reply.keep_alive = res.keep_alive();
    reply.body = res.body();
    reply.headers = res.base();
    return reply;
  }

  HttpReply post(std::string body, std::optional<std::string> token) {
    return request(http::verb::post, "/rpc/v0", std::move(body), std::move(token));
  }

  // True when the server closed the connection (read returns EOF/reset).
  bool closed_by_peer() {
    char c;
    beast::error_code ec;
    stream_.socket().read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

  beast::tcp_stream& stream() { return stream_; }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// A blocking WebSocket client.
class WsConn {
 public:
  // Handshakes; `status` gets the HTTP status of the upgrade response (101 on success).
  WsConn(std::uint16_t port, std::optional<std::string> header_token,
         std::string target = "/rpc/v0")
      : ws_(ioc_) {
    ws_.next_layer().connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
    if (header_token) {
      ws_.set_option(
          websocket::stream_base::decorator([t = *header_token](websocket::request_type& r) {
            r.set(http::field::authorization, "Bearer " + t);
          }));
    }
    websocket::response_type res;
    beast::error_code ec;
    ws_.handshake(res, "127.0.0.1", target, ec);
    status = static_cast<int>(res.result_int());
  }

  void send(const std::string& text) { ws_.write(net::buffer(text)); }
  // For sends the server may cut short (it can close before the whole message is written).
  beast::error_code try_send(const std::string& text) {
    beast::error_code ec;
    ws_.write(net::buffer(text), ec);
    return ec;
  }
  json receive() {
    beast::flat_buffer buf;
    ws_.read(buf);
    return json::parse(beast::buffers_to_string(buf.data()));
  }
  beast::error_code receive_error() {
    beast::flat_buffer buf;
    beast::error_code ec;
    ws_.read(buf, ec);
    return ec;
  }

  int status = 0;

 private:
  net::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
};

std::string request(std::string_view method, json params = json::array(), json id = 1) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
}

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    registry_.add("Filecoin.Version", Perm::kRead, [](const json&, const CallContext& ctx) {
      return json{{"Version", "sealhost-test"},
                  {"Transport", ctx.transport == Transport::kWebSocket ? "ws" : "http"}};
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
    registry_.add("Test.AppError", Perm::kRead, [](const json&, const CallContext&) -> json {
      throw RpcError(1234, "sector 7 not found", json{{"sector", 7}});
    });
    registry_.add("Test.Note", Perm::kRead, [this](const json&, const CallContext&) {
      notes_.fetch_add(1);
      return json(nullptr);
    });
    registry_.add("Test.StopFromHandler", Perm::kAdmin, [this](const json&, const CallContext&) {
      server_->stop();
      return json("stopped");
    });
    registry_.add(
        "Test.Block", Perm::kRead,
        [this](const json&, const CallContext& ctx) {
          blocking_started_.fetch_add(1);
          if (gate_future_.wait_for(20s) != std::future_status::ready) return json("gate timeout");
          return json(ctx.stop_requested() ? "done while stopping" : "done");
        },
        Execution::kBlocking);
  }

  ~ServerTest() override {
    open_gate();
    if (server_) server_->stop();
  }

  void start(RpcServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<RpcServer>(registry_, secret_, options);
    server_->start();
    ASSERT_NE(server_->port(), 0);
  }

  void open_gate() {
    if (!gate_open_.exchange(true)) gate_.set_value();
  }

  void wait_for_blocking_calls(int n) {
    for (int i = 0; i < 2000 && blocking_started_.load() < n; ++i) std::this_thread::sleep_for(5ms);
    ASSERT_GE(blocking_started_.load(), n) << "blocking handler never started";
  }

  std::string token(Perm p) const { return create_token(secret_, p); }
  std::uint16_t port() const { return server_->port(); }
  ApiInfo info(Perm p) const { return ApiInfo::parse(token(p) + ":" + server_->multiaddr()); }

  RpcRegistry registry_;
  JwtSecret secret_ = JwtSecret::generate();
  std::promise<void> gate_;
  std::shared_future<void> gate_future_ = gate_.get_future().share();
  std::atomic<bool> gate_open_{false};
  std::atomic<int> blocking_started_{0};
  std::atomic<int> notes_{0};
  std::unique_ptr<RpcServer> server_;
};

TEST_F(ServerTest, HealthzNeedsNoToken) {
  start();
  HttpConn c(port());
  auto r = c.request(http::verb::get, "/healthz", "", std::nullopt);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

TEST_F(ServerTest, MissingOrInvalidTokenIs401) {
  start();
  HttpConn c(port());
  auto missing = c.post(request("Filecoin.Version"), std::nullopt);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.json_body()["error"]["code"], kUnauthorized);
  EXPECT_EQ(missing.header(http::field::www_authenticate), "Bearer");

  auto foreign =
      c.post(request("Filecoin.Version"), create_token(JwtSecret::generate(), Perm::kAdmin));
  EXPECT_EQ(foreign.status, 401);
  EXPECT_NE(foreign.body.find("signature mismatch"), std::string::npos) << foreign.body;

  http::fields basic;
  basic.set(http::field::authorization, "Basic dXNlcjpwYXNz");
  auto wrong_scheme =
      c.request(http::verb::post, "/rpc/v0", request("Filecoin.Version"), std::nullopt, basic);
  EXPECT_EQ(wrong_scheme.status, 401);
}

TEST_F(ServerTest, ReadTokenCallsReadMethod) {
  start();
  HttpConn c(port());
  auto r = c.post(request("Filecoin.Version", json::array(), "v1"), token(Perm::kRead));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header(http::field::content_type), "application/json");
  auto body = r.json_body();
  EXPECT_EQ(body["id"], "v1");
  EXPECT_EQ(body["result"]["Version"], "sealhost-test");
  EXPECT_EQ(body["result"]["Transport"], "http");
}

TEST_F(ServerTest, InsufficientPermissionIs403NamingTheNeededPerm) {
  start();
  HttpConn c(port());
  auto r = c.post(request("Test.Admin"), token(Perm::kSign));
  EXPECT_EQ(r.status, 403);
  auto body = r.json_body();
  EXPECT_EQ(body["error"]["code"], kPermissionDenied);
  EXPECT_EQ(body["error"]["data"]["required"], "admin");
  EXPECT_EQ(c.post(request("Test.Admin"), token(Perm::kAdmin)).json_body()["result"], "ok");
}

TEST_F(ServerTest, BatchOverHttp) {
  start();
  HttpConn c(port());
  const std::string batch =
      "[" + request("Test.Add", {2, 3}, 1) + "," + R"({"jsonrpc":"2.0","method":"Test.Note"})" +
      "," + request("Test.Admin", json::array(), 2) + "," + request("Nope", json::array(), 3) + "]";
  auto r = c.post(batch, token(Perm::kWrite));
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.json_body();
  ASSERT_EQ(body.size(), 3U) << r.body;
  EXPECT_EQ(body[0]["result"], 5);
  EXPECT_EQ(body[1]["error"]["code"], kPermissionDenied);
  EXPECT_EQ(body[2]["error"]["code"], kMethodNotFound);
  EXPECT_EQ(notes_.load(), 1);
}

TEST_F(ServerTest, NotificationOnlyIs204) {
  start();
  HttpConn c(port());
  auto r = c.post(R"({"jsonrpc":"2.0","method":"Test.Note"})", token(Perm::kRead));
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(notes_.load(), 1);
}

TEST_F(ServerTest, JsonRpcErrorsOverHttp) {
  start();
  HttpConn c(port());
  const auto t = token(Perm::kAdmin);
  EXPECT_EQ(c.post("{nope", t).json_body()["error"]["code"], kParseError);
  EXPECT_EQ(c.post(R"({"id":1,"method":"Filecoin.Version"})", t).json_body()["error"]["code"],
            kInvalidRequest);
  EXPECT_EQ(c.post(request("Filecoin.Nope"), t).json_body()["error"]["code"], kMethodNotFound);
  auto params = c.post(request("Test.Add", {1, "x"}), t).json_body();
  EXPECT_EQ(params["error"]["code"], kInvalidParams);
  EXPECT_EQ(params["error"]["message"], "Test.Add: param 1 (b): expected integer, got string");
}

TEST_F(ServerTest, HandlerExceptionsDoNotHurtTheServer) {
  start();
  HttpConn c(port());
  const auto t = token(Perm::kRead);
  auto thrown = c.post(request("Test.Throw"), t).json_body();
  EXPECT_EQ(thrown["error"]["code"], kInternalError);
  EXPECT_EQ(thrown["error"]["message"], "disk on fire");
  auto app = c.post(request("Test.AppError"), t).json_body();
  EXPECT_EQ(app["error"]["code"], 1234);
  EXPECT_EQ(app["error"]["data"]["sector"], 7);
  EXPECT_EQ(c.post(request("Filecoin.Version"), t).status, 200) << "same connection still served";
}

TEST_F(ServerTest, OversizedBodyIs413AndClosesTheConnection) {
  RpcServerOptions opt;
  opt.max_body_bytes = 1024;
  start(opt);
  HttpConn c(port());
  const std::string big = request("Test.Add", {std::string(4096, 'x'), 1});
  auto r = c.post(big, token(Perm::kAdmin));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json_body()["error"]["code"], kRequestTooLarge);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(c.closed_by_peer());
  HttpConn again(port());
  EXPECT_EQ(again.post(request("Test.Add", {1, 1}), token(Perm::kAdmin)).json_body()["result"], 2)
      << "a request under the limit still works";
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  HttpConn c(port());
  for (int i = 0; i < 20; ++i) {
    auto r = c.post(request("Test.Add", {i, 1}, i), token(Perm::kWrite));
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.json_body()["result"], i + 1);
  }
  EXPECT_EQ(server_->connection_count(), 1U);
}

TEST_F(ServerTest, WrongVerbIs405AndOtherPathIs404) {
  start();
  HttpConn c(port());
  auto get = c.request(http::verb::get, "/rpc/v0", "", token(Perm::kRead));
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.header(http::field::allow), "POST");
  EXPECT_EQ(c.request(http::verb::post, "/rpc/v1", "{}", token(Perm::kRead)).status, 404);
}

TEST_F(ServerTest, Expect100ContinueIsAnswered) {
  start();
  net::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(net::ip::address_v4::loopback(), port()));
  const std::string body = request("Test.Add", {20, 22});
  const std::string head = "POST /rpc/v0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           token(Perm::kWrite) + "\r\nContent-Type: application/json\r\n" +
                           "Content-Length: " + std::to_string(body.size()) +
                           "\r\nExpect: 100-continue\r\n\r\n";
  net::write(s, net::buffer(head));
  std::string got;
  net::read_until(s, net::dynamic_buffer(got), "\r\n\r\n");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 100 Continue")) << got;
  net::write(s, net::buffer(body));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  // `got` may hold more than the interim response; feed the rest into the parser's buffer.
  const auto interim_end = got.find("\r\n\r\n") + 4;
  auto rest = got.substr(interim_end);
  net::buffer_copy(buf.prepare(rest.size()), net::buffer(rest));
  buf.commit(rest.size());
  http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 200U);
  EXPECT_EQ(json::parse(res.body())["result"], 42);
}

TEST_F(ServerTest, SlowClientIsCutOff) {
  RpcServerOptions opt;
  opt.read_timeout_ms = 300;
  start(opt);
  HttpConn c(port());
  net::write(c.stream().socket(), net::buffer(std::string("POST /rpc/v0 HTTP/1.1\r\nHost: x\r\n")));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_F(ServerTest, BlockingHandlerDoesNotBlockNetworkThreads) {
  RpcServerOptions opt;
  opt.io_threads = 1;  // with one network thread a blocked handler would stall everything
  start(opt);
  auto slow = std::async(std::launch::async, [&] {
    HttpConn c(port());
    return c.post(request("Test.Block"), token(Perm::kRead)).json_body();
  });
  wait_for_blocking_calls(1);
  HttpConn fast(port());
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(fast.post(request("Test.Add", {1, 2}), token(Perm::kWrite)).json_body()["result"], 3);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout) << "the slow call is still running";
  open_gate();
  EXPECT_EQ(slow.get()["result"], "done");
}

TEST_F(ServerTest, StopFromAHandlerIsRefusedNotADeadlock) {
  start();
  HttpConn c(port());
  auto r = c.post(request("Test.StopFromHandler"), token(Perm::kAdmin)).json_body();
  EXPECT_EQ(r["error"]["code"], kInternalError);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("signal the main thread"),
            std::string::npos);
  EXPECT_EQ(c.post(request("Filecoin.Version"), token(Perm::kRead)).status, 200);
}

TEST_F(ServerTest, BusyPortGivesOperatorMessage) {
  start();
  RpcServerOptions opt;
  opt.host = "127.0.0.1";
  opt.port = port();
  RpcServer second(registry_, secret_, opt);
  try {
    second.start();
    FAIL() << "bound a port that is in use";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "api listen 127.0.0.1:" + std::to_string(port()) +
                                         ": address already in use (stop the other process or "
                                         "set [api] listen_address)");
  }
}

TEST_F(ServerTest, ManyConcurrentClients) {
  start();
  constexpr int kClients = 16;
  constexpr int kCalls = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      RpcClient client(info(Perm::kWrite));
      for (int i = 0; i < kCalls; ++i) {
        if (client.call("Test.Add", {t * 1000, i}) == t * 1000 + i) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kClients * kCalls);
}

TEST_F(ServerTest, StopWhileClientsConnectedIsGraceful) {
  start();
  HttpConn idle(port());
  EXPECT_EQ(idle.post(request("Filecoin.Version"), token(Perm::kRead)).status, 200);
  WsConn ws(port(), token(Perm::kRead));
  ASSERT_EQ(ws.status, 101);
  auto in_flight = std::async(std::launch::async, [&] {
    HttpConn c(port());
    return c.post(request("Test.Block"), token(Perm::kRead));
  });
  wait_for_blocking_calls(1);

  const auto t0 = std::chrono::steady_clock::now();
  auto stopper = std::async(std::launch::async, [&] { server_->stop(); });
  std::this_thread::sleep_for(200ms);
  open_gate();
  stopper.get();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);

  auto reply = in_flight.get();
  EXPECT_EQ(reply.status, 200) << "the call in progress finished";
  EXPECT_EQ(reply.json_body()["result"], "done while stopping");
  EXPECT_FALSE(reply.keep_alive);
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_TRUE(ws.receive_error()) << "the websocket was closed";
  EXPECT_EQ(server_->connection_count(), 0U);
  EXPECT_THROW(HttpConn{port()}, boost::system::system_error) << "listener is closed";
}

// ---- WebSocket ------------------------------------------------------------------------------

TEST_F(ServerTest, WebSocketWithHeaderToken) {
  start();
  WsConn ws(port(), token(Perm::kRead));
  ASSERT_EQ(ws.status, 101);
  ws.send(request("Filecoin.Version"));
  auto r = ws.receive();
  EXPECT_EQ(r["result"]["Transport"], "ws");
}

TEST_F(ServerTest, WebSocketWithQueryToken) {
  start();
  WsConn ws(port(), std::nullopt, "/rpc/v0?token=" + token(Perm::kWrite));
  ASSERT_EQ(ws.status, 101);
  ws.send(request("Test.Add", {4, 5}));
  EXPECT_EQ(ws.receive()["result"], 9);
}

TEST_F(ServerTest, WebSocketWithoutValidTokenIs401) {
  start();
  EXPECT_EQ(WsConn(port(), std::nullopt).status, 401);
  EXPECT_EQ(WsConn(port(), std::nullopt, "/rpc/v0?token=abc.def.ghi").status, 401);
}

TEST_F(ServerTest, WebSocketPermissionDeniedIsJsonRpcError) {
  start();
  WsConn ws(port(), token(Perm::kRead));
  ws.send(request("Test.Admin"));
  auto r = ws.receive();
  EXPECT_EQ(r["error"]["code"], kPermissionDenied);
  EXPECT_EQ(r["error"]["data"]["required"], "admin");
  ws.send(request("Filecoin.Version"));
  EXPECT_TRUE(ws.receive().contains("result")) << "the connection stays usable";
}

TEST_F(ServerTest, WebSocketResponsesKeepRequestOrder) {
  start();
  WsConn ws(port(), token(Perm::kWrite));
  // Pipelined: a blocking call, a notification, a batch and a malformed frame.
  ws.send(request("Test.Block", json::array(), "first"));
  ws.send(R"({"jsonrpc":"2.0","method":"Test.Note"})");
  ws.send("[" + request("Test.Add", {1, 1}, "b1") + "," + request("Test.Add", {2, 2}, "b2") + "]");
  ws.send("{broken");
  wait_for_blocking_calls(1);
  open_gate();
  EXPECT_EQ(ws.receive()["id"], "first");
  auto batch = ws.receive();
  ASSERT_TRUE(batch.is_array());
  EXPECT_EQ(batch[0]["result"], 2);
  EXPECT_EQ(batch[1]["result"], 4);
  EXPECT_EQ(ws.receive()["error"]["code"], kParseError);
  EXPECT_EQ(notes_.load(), 1);
}

TEST_F(ServerTest, WebSocketOversizedMessageClosesConnection) {
  RpcServerOptions opt;
  opt.max_body_bytes = 1024;
  start(opt);
  WsConn ws(port(), token(Perm::kRead));
  const auto send_ec = ws.try_send(request("Filecoin.Version", {std::string(4096, 'x')}));
  EXPECT_TRUE(send_ec || ws.receive_error()) << "an oversized message must end the connection";
  WsConn next(port(), token(Perm::kRead));
  ASSERT_EQ(next.status, 101);
  next.send(request("Filecoin.Version"));
  EXPECT_TRUE(next.receive().contains("result")) << "the server still serves others";
}

// ---- RpcClient ------------------------------------------------------------------------------

TEST_F(ServerTest, ClientCallsAndReturnsResult) {
  start();
  RpcClient client(info(Perm::kWrite));
  EXPECT_EQ(client.call("Test.Add", {40, 2}), 42);
  EXPECT_EQ(client.call("Filecoin.Version")["Version"], "sealhost-test");
}

TEST_F(ServerTest, ClientExplainsMissingPermission) {
  start();
  RpcClient client(info(Perm::kWrite));
  try {
    client.call("Test.Admin");
    FAIL() << "admin call succeeded with a write token";
  } catch (const RpcCallError& e) {
    EXPECT_EQ(e.http_status(), 403);
    EXPECT_EQ(std::string(e.what()),
              "permission denied: the token lacks 'admin' (create one with `sealhost auth "
              "create-token --perm admin`)");
  }
}

TEST_F(ServerTest, ClientExplainsBadToken) {
  start();
  ApiInfo bad = info(Perm::kAdmin);
  bad.token = create_token(JwtSecret::generate(), Perm::kAdmin);
  RpcClient client(bad);
  try {
    client.call("Filecoin.Version");
    FAIL() << "foreign token accepted";
  } catch (const RpcCallError& e) {
    EXPECT_EQ(e.http_status(), 401);
    EXPECT_TRUE(std::string(e.what()).starts_with("authentication failed: ")) << e.what();
  }
}

TEST_F(ServerTest, ClientPassesApplicationErrorsThrough) {
  start();
  RpcClient client(info(Perm::kRead));
  try {
    client.call("Test.AppError");
    FAIL() << "error not raised";
  } catch (const RpcCallError& e) {
    EXPECT_EQ(e.code(), 1234);
    EXPECT_EQ(std::string(e.what()), "sector 7 not found");
    EXPECT_EQ(e.data()["sector"], 7);
  }
  EXPECT_EQ(client.call("Filecoin.Version")["Version"], "sealhost-test");
}

TEST_F(ServerTest, ClientReconnectsAfterServerClosedIdleConnection) {
  RpcServerOptions opt;
  opt.read_timeout_ms = 100;
  start(opt);
  RpcClient client(info(Perm::kWrite));
  EXPECT_EQ(client.call("Test.Add", {1, 1}), 2);
  std::this_thread::sleep_for(400ms);  // the server drops the idle keep-alive connection
  EXPECT_EQ(client.call("Test.Add", {2, 2}), 4);
}

TEST_F(ServerTest, ClientReportsRepliesThatAreNotJsonRpc) {
  start();
  ApiInfo wrong_path = info(Perm::kRead);
  wrong_path.path = "/healthz";  // answers 405 text/plain to a POST
  RpcClient client(wrong_path);
  try {
    client.call("Filecoin.Version");
    FAIL() << "a non-JSON-RPC reply was accepted";
  } catch (const RpcCallError& e) {
    EXPECT_EQ(e.http_status(), 405);
    EXPECT_NE(std::string(e.what()).find("unexpected HTTP 405"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server_->multiaddr(), "/ip4/127.0.0.1/tcp/" + std::to_string(port()) + "/http");
  EXPECT_EQ(server_->listen_address(), "127.0.0.1:" + std::to_string(port()));
}

TEST(RpcClient, ExplainsDaemonNotRunning) {
  // A port that was free a moment ago: bind, read it, close.
  net::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0));
  const auto port = a.local_endpoint().port();
  a.close();
  RpcClient client(ApiInfo::parse("x.y.z:/ip4/127.0.0.1/tcp/" + std::to_string(port) + "/http"));
  try {
    client.call("Filecoin.Version");
    FAIL() << "call to a closed port succeeded";
  } catch (const RpcCallError& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.starts_with("cannot reach sealhost daemon at 127.0.0.1:" +
                                std::to_string(port) + ": is `sealhost run` running?"))
        << msg;
  }
}

}  // namespace
}  // namespace sealhost::rpc
