#include "host/rpc/client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <optional>
#include <vector>

namespace sealhost::rpc {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::string_view kForms =
    "expected '<token>:/ip4/<ip>/tcp/<port>/http', '/ip4/<ip>/tcp/<port>/http' or "
    "'http://<host>:<port>'";

std::invalid_argument bad_info(std::string_view text, const std::string& why) {
  return std::invalid_argument("api info '" + std::string(text) + "': " + why + " (" +
                               std::string(kForms) + ")");
}

std::uint16_t parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    throw bad_info(whole, "port '" + std::string(text) + "' is not a number in 1..65535");
  }
  return static_cast<std::uint16_t>(value);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

void parse_multiaddr(std::string_view addr, std::string_view whole, ApiInfo& info) {
  auto parts = split(addr.substr(1), '/');
  if (!parts.empty() && parts.back().empty()) parts.pop_back();  // trailing slash
  if (parts.size() < 4) throw bad_info(whole, "multiaddr is too short");
  const auto proto = parts[0];
  if (proto != "ip4" && proto != "ip6" && proto != "dns" && proto != "dns4" && proto != "dns6") {
    throw bad_info(whole, "unsupported multiaddr protocol '/" + std::string(proto) + "'");
  }
  if (parts[1].empty()) throw bad_info(whole, "missing host");
  if (parts[2] != "tcp") throw bad_info(whole, "expected /tcp/<port> after the host");
  info.host = std::string(parts[1]);
  info.port = parse_port(parts[3], whole);
  for (std::size_t i = 4; i < parts.size(); ++i) {
    const auto p = parts[i];
    if (p == "http" || p == "ws") continue;
    if (p == "https" || p == "wss" || p == "tls") {
      throw bad_info(whole, "TLS is not served by the sealhost daemon; use /http");
    }
    throw bad_info(whole, "unsupported multiaddr component '/" + std::string(p) + "'");
  }
}

void parse_url(std::string_view url, std::string_view whole, ApiInfo& info) {
  const auto sep = url.find("://");
  const auto scheme = url.substr(0, sep);
  if (scheme == "https" || scheme == "wss") {
    throw bad_info(whole, "TLS is not served by the sealhost daemon; use http://");
  }
  if (scheme != "http" && scheme != "ws") throw bad_info(whole, "unsupported URL scheme");
  auto rest = url.substr(sep + 3);
  const auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos && rest.substr(slash) != "/") {
    info.path = std::string(rest.substr(slash));
  }
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) throw bad_info(whole, "unterminated [ipv6] host");
    info.host = std::string(hostport.substr(1, close - 1));
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') throw bad_info(whole, "expected ':' after ]");
      port_text = hostport.substr(close + 2);
    }
  } else {
    const auto colon = hostport.rfind(':');
    info.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
  }
  if (info.host.empty()) throw bad_info(whole, "missing host");
  info.port = port_text.empty() ? 80 : parse_port(port_text, whole);
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The server's JSON-RPC error message from a response body, if there is one.
std::optional<nlohmann::json> error_object(const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) return doc["error"];
  return std::nullopt;
}

}  // namespace

ApiInfo ApiInfo::parse(std::string_view raw) {
  const std::string text = trim(raw);
  if (text.empty()) throw bad_info(text, "empty");
  ApiInfo info;
  std::string_view addr = text;
  const bool bare = addr.starts_with('/') || addr.find("://") == addr.find(':');
  if (!bare) {
    // Lotus form: everything before the first ':' is the token (JWTs contain no ':').
    const auto colon = addr.find(':');
    info.token = std::string(addr.substr(0, colon));
    addr = addr.substr(colon + 1);
  }
  if (addr.starts_with('/')) {
    parse_multiaddr(addr, text, info);
  } else if (addr.find("://") != std::string_view::npos) {
    parse_url(addr, text, info);
  } else {
    throw bad_info(text, "unrecognized address '" + std::string(addr) + "'");
  }
  return info;
}

std::string ApiInfo::address() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

struct RpcClient::Conn {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;

  void disconnect() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    buffer.clear();
    connected = false;
  }

  // Runs the async operation started by `start` to completion on our private io_context.
  template <typename Start>
  beast::error_code run(std::chrono::milliseconds timeout, Start&& start) {
    beast::error_code result;
    stream.expires_after(timeout);
    ioc.restart();
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.run();
    return result;
  }
};

RpcClient::RpcClient(ApiInfo info, RpcClientOptions options)
    : info_(std::move(info)), options_(options), conn_(std::make_unique<Conn>()) {}

RpcClient::~RpcClient() = default;

nlohmann::json RpcClient::call(std::string_view method, nlohmann::json params) {
  const std::uint64_t id = next_id_++;
  const nlohmann::json request = {
      {"jsonrpc", "2.0"}, {"method", method}, {"params", std::move(params)}, {"id", id}};
  http::request<http::string_body> req{http::verb::post, info_.path, 11};
  req.set(http::field::host, info_.address());
  req.set(http::field::user_agent, "sealhost-cli");
  req.set(http::field::content_type, "application/json");
  if (!info_.token.empty()) req.set(http::field::authorization, "Bearer " + info_.token);
  req.keep_alive(true);
  req.body() = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  req.prepare_payload();

  const std::string where = "sealhost daemon at " + info_.address();
  const std::string unreachable = "cannot reach " + where + ": is `sealhost run` running?";
  auto& c = *conn_;
  std::optional<http::response_parser<http::string_body>> parser;
  for (int attempt = 0;; ++attempt) {
    const bool reused = c.connected;
    if (!c.connected) {
      tcp::resolver resolver(c.ioc);
      beast::error_code ec;
      const auto results = resolver.resolve(info_.host, std::to_string(info_.port), ec);
      if (ec)
        throw RpcCallError(
            unreachable + " (cannot resolve " + info_.host + ": " + ec.message() + ")", 0, 0);
      ec = c.run(std::chrono::milliseconds(options_.connect_timeout_ms),
                 [&](auto handler) { c.stream.async_connect(results, std::move(handler)); });
      if (ec) {
        c.disconnect();
        const std::string why =
            ec == beast::error::timeout
                ? "connect timed out after " + std::to_string(options_.connect_timeout_ms) + " ms"
                : ec.message();
        throw RpcCallError(unreachable + " (" + why + ")", 0, 0);
      }
      beast::error_code ignore;
      c.stream.socket().set_option(tcp::no_delay(true), ignore);
      c.connected = true;
    }
    const auto timeout = std::chrono::milliseconds(options_.call_timeout_ms);
    auto ec =
        c.run(timeout, [&](auto handler) { http::async_write(c.stream, req, std::move(handler)); });
    parser.emplace();
    parser->body_limit(std::uint64_t{1} << 30);
    if (!ec) {
      ec = c.run(timeout, [&](auto handler) {
        http::async_read(c.stream, c.buffer, *parser, std::move(handler));
      });
    }
    if (!ec) break;
    c.disconnect();
    // A kept-alive connection the server closed meanwhile fails before any response byte: the
    // request was not processed, so one retry on a fresh connection is safe.
    const bool stale = reused && attempt == 0 && !parser->got_some() &&
                       (ec == http::error::end_of_stream || ec == net::error::connection_reset ||
                        ec == net::error::broken_pipe || ec == net::error::eof);
    if (stale) continue;
    if (ec == beast::error::timeout) {
      throw RpcCallError(where + ": " + std::string(method) + " timed out after " +
                             std::to_string(options_.call_timeout_ms) + " ms",
                         0, 0);
    }
    throw RpcCallError(unreachable + " (" + ec.message() + ")", 0, 0);
  }

  auto res = parser->release();
  if (!res.keep_alive()) c.disconnect();
  const int status = static_cast<int>(res.result_int());
  const auto error = error_object(res.body());
  const std::string server_message =
      error && (*error)["message"].is_string() ? (*error)["message"].get<std::string>() : "";
  const nlohmann::json data = error && error->contains("data") ? (*error)["data"] : nullptr;
  const int code = error && (*error)["code"].is_number_integer() ? (*error)["code"].get<int>() : 0;

  if (status == 401) {
    throw RpcCallError("authentication failed: " + where + " rejected the token" +
                           (server_message.empty() ? "" : " (" + server_message + ")") +
                           "; check MINER_API_INFO or the repo's token file",
                       code, status, data);
  }
  if (status == 403) {
    const std::string need =
        data.is_object() && data.contains("required") && data["required"].is_string()
            ? data["required"].get<std::string>()
            : "admin";
    throw RpcCallError("permission denied: the token lacks '" + need +
                           "' (create one with `sealhost auth create-token --perm " + need + "`)",
                       code, status, data);
  }
  if (status == 204) return nullptr;
  if (error) {
    throw RpcCallError(
        server_message.empty() ? where + ": error " + std::to_string(code) : server_message, code,
        status, data);
  }
  const auto doc = nlohmann::json::parse(res.body(), nullptr, false);
  if (status != 200 || !doc.is_object() || !doc.contains("result")) {
    throw RpcCallError(where + ": unexpected HTTP " + std::to_string(status) + " reply to " +
                           std::string(method) + ": " + res.body().substr(0, 200),
                       0, status);
  }
  if (doc.value("id", nlohmann::json()) != nlohmann::json(id)) {
    throw RpcCallError(where + ": reply id does not match request " + std::to_string(id) +
                           " (is something else listening on this port?)",
                       0, status);
  }
  return doc["result"];
}

}  // namespace sealhost::rpc
