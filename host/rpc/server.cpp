#include "host/rpc/server.hpp"

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "host/rpc/dispatcher.hpp"
#include "host/rpc/log.hpp"

namespace sealhost::rpc {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using std::chrono::milliseconds;

constexpr std::string_view kServerName = "sealhost";
constexpr std::string_view kJsonType = "application/json";
// How long a connection we are closing may keep sending (e.g. the rest of an oversized body)
// before we drop it; reading it lets the client see our response instead of a reset.
constexpr milliseconds kLingerTime{1000};

std::string endpoint_string(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  const std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(ep.port());
}

// The value of `key` in a URL query string ("a=1&token=xyz"), percent-decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != key || eq == std::string_view::npos) continue;
    std::string out;
    const std::string_view raw = pair.substr(eq + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size()) {
        const std::string hex(raw.substr(i + 1, 2));
        char* end = nullptr;
        const long v = std::strtol(hex.c_str(), &end, 16);
        if (end == hex.c_str() + 2) {
          out += static_cast<char>(v);
          i += 2;
          continue;
        }
      }
      out += raw[i] == '+' ? ' ' : raw[i];
    }
    return out;
  }
  return std::nullopt;
}

// "Bearer <token>" -> token (scheme case-insensitive); nullopt for another scheme.
std::optional<std::string_view> bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return std::nullopt;
  }
  header.remove_prefix(kScheme.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  return header;
}

// The server whose network or worker thread this is (null elsewhere): lets stop() refuse to
// run on a thread it would have to join. Asio's running_in_this_thread() proved unreliable for
// this under sanitizer builds, so we mark our threads ourselves.
thread_local const void* tls_server_thread = nullptr;

struct ThreadMark {
  explicit ThreadMark(const void* server) : previous(tls_server_thread) {
    tls_server_thread = server;
  }
  ~ThreadMark() { tls_server_thread = previous; }
  ThreadMark(const ThreadMark&) = delete;
  ThreadMark& operator=(const ThreadMark&) = delete;
  const void* previous;
};

}  // namespace

class Session;

struct RpcServer::Impl {
  Impl(const RpcRegistry& reg, JwtSecret key, RpcServerOptions o)
      : dispatcher(reg),
        secret(std::move(key)),
        opt(std::move(o)),
        ioc(std::max(1, opt.io_threads)) {}

  void track(const std::shared_ptr<Session>& s);
  void untrack(Session* s);
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);

  JsonRpcDispatcher dispatcher;
  JwtSecret secret;
  RpcServerOptions opt;
  std::atomic<bool> stopping{false};

  // Session registry: declared before ioc so that sessions destroyed with the io_context's
  // pending handlers can still unregister themselves.
  std::mutex sessions_mu;
  std::condition_variable sessions_cv;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::atomic<std::size_t> connections{0};

  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  tcp::endpoint bound;

  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{net::make_strand(ioc)};
  net::steady_timer accept_backoff{acceptor.get_executor()};
  net::thread_pool workers{static_cast<std::size_t>(std::max(1, opt.blocking_threads))};
  std::vector<std::thread> threads;
};

// A connection; shutdown() is called (from any thread) when the server stops.
class Session {
 public:
  explicit Session(RpcServer::Impl& impl) : impl_(impl) {}
  virtual ~Session() { impl_.untrack(this); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  virtual void shutdown() = 0;

 protected:
  CallContext context(PermSet perms, Transport transport) const {
    CallContext ctx;
    ctx.perms = perms;
    ctx.remote = remote_;
    ctx.transport = transport;
    ctx.stopping = &impl_.stopping;
    return ctx;
  }

  RpcServer::Impl& impl_;
  std::string remote_;
};

void RpcServer::Impl::track(const std::shared_ptr<Session>& s) {
  {
    std::lock_guard lock(sessions_mu);
    sessions.emplace(s.get(), s);
    connections.fetch_add(1);
  }
  // Sessions born while stop() runs (e.g. a WebSocket upgrade) must not escape the shutdown.
  if (stopping.load()) s->shutdown();
}

void RpcServer::Impl::untrack(Session* s) {
  std::lock_guard lock(sessions_mu);
  if (sessions.erase(s) > 0) connections.fetch_sub(1);
  sessions_cv.notify_all();
}

namespace {

class WsSession : public Session, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket&& socket, RpcServer::Impl& impl, PermSet perms, std::string remote)
      : Session(impl), ws_(std::move(socket)), perms_(perms) {
    remote_ = std::move(remote);
  }

  // Runs on the connection's strand (called from the HTTP session that got the upgrade).
  void start(Request request) {
    beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts take over
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = milliseconds(impl_.opt.ws_idle_timeout_ms);
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(impl_.opt.max_body_bytes);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, kServerName); }));
    busy_ = true;
    upgrade_ = std::move(request);  // must outlive the asynchronous accept
    ws_.async_accept(upgrade_,
                     beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

  void shutdown() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) self->do_close();
    });
  }

 private:
  void on_accept(beast::error_code ec) {
    busy_ = false;
    if (ec) return;
    do_read();
  }

  void do_read() {
    if (closing_) return do_close();
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    // closed, message_too_big (Beast already sent close 1009), timeouts: the session just ends.
    if (ec) return;
    busy_ = true;
    auto body = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    auto batch = std::make_shared<PreparedBatch>(impl_.dispatcher.prepare(body, perms_));
    if (!batch->needs_worker) return write(impl_.dispatcher.execute(*batch, ctx()));
    net::post(impl_.workers, [self = shared_from_this(), batch] {
      const ThreadMark mark(&self->impl_);
      auto out = self->impl_.dispatcher.execute(*batch, self->ctx());
      net::post(self->ws_.get_executor(),
                [self, out = std::move(out)]() mutable { self->write(std::move(out)); });
    });
  }

  void write(std::string out) {
    if (out.empty()) {
      busy_ = false;
      return do_read();
    }
    out_ = std::move(out);
    ws_.text(true);
    ws_.async_write(net::buffer(out_),
                    beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    busy_ = false;
    if (ec) return;
    do_read();
  }

  void do_close() {
    if (close_started_ || !ws_.is_open()) return;
    close_started_ = true;
    // A peer that is not reading would hold the close handshake for the full handshake timeout;
    // when we are the ones closing, a short wait for its close frame is enough.
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = milliseconds(impl_.opt.ws_idle_timeout_ms);
    timeouts.handshake_timeout = kLingerTime;
    ws_.set_option(timeouts);
    ws_.async_close(websocket::close_code::going_away,
                    [self = shared_from_this()](beast::error_code) {});
  }

  CallContext ctx() const { return context(perms_, Transport::kWebSocket); }

  websocket::stream<beast::tcp_stream> ws_;
  Request upgrade_;
  beast::flat_buffer buffer_;
  PermSet perms_;
  std::string out_;
  bool busy_ = false;
  bool closing_ = false;
  bool close_started_ = false;
};

class HttpSession : public Session, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket&& socket, RpcServer::Impl& impl)
      : Session(impl), stream_(std::move(socket)) {
    beast::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint_string(ep);
  }

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&HttpSession::do_read, shared_from_this()));
  }

  void shutdown() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) self->close();
    });
  }

 private:
  void do_read() {
    if (closing_ || impl_.stopping.load()) return close();
    parser_.emplace();
    parser_->body_limit(impl_.opt.max_body_bytes);
    stream_.expires_after(milliseconds(impl_.opt.read_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&HttpSession::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read(ec, 0);
    // curl sends "Expect: 100-continue" for larger bodies and waits a second unless told to go on.
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      return http::async_write(stream_, *continue_,
                               [self = shared_from_this()](beast::error_code wec, std::size_t) {
                                 if (wec) return self->close();
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) {
      busy_ = true;
      keep_alive_ = false;
      version_ = parser_->get().version();
      return respond(http::status::payload_too_large,
                     JsonRpcDispatcher::error_response(
                         nullptr, kRequestTooLarge,
                         "request body exceeds the " + std::to_string(impl_.opt.max_body_bytes) +
                             "-byte limit (send smaller batches)"),
                     kJsonType);
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted) {
      return close();
    }
    if (ec) {
      if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        busy_ = true;
        keep_alive_ = false;
        version_ = 11;
        return respond(http::status::bad_request, "bad request: " + ec.message() + "\n",
                       "text/plain");
      }
      return close();
    }
    busy_ = true;
    handle(parser_->release());
  }

  void handle(Request req) {
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    const std::string_view target = req.target();
    const auto qpos = target.find('?');
    const std::string_view path = target.substr(0, qpos);
    const std::string_view query =
        qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);

    if (path == "/healthz") {
      if (req.method() != http::verb::get) return method_not_allowed("GET");
      return respond(http::status::ok, "ok", "text/plain");
    }
    if (path != impl_.opt.path) {
      return respond(http::status::not_found,
                     "not found: the JSON-RPC endpoint is " + impl_.opt.path + "\n", "text/plain");
    }
    if (websocket::is_upgrade(req)) {
      std::optional<std::string> token;
      if (auto h = req.find(http::field::authorization); h != req.end()) {
        token = std::string(h->value());
      } else if (auto q = query_param(query, "token")) {
        token = "Bearer " + *q;
      }
      const auto perms = authenticate(token);
      if (!perms) return;
      auto ws = std::make_shared<WsSession>(stream_.release_socket(), impl_, *perms, remote_);
      impl_.track(ws);
      ws->start(std::move(req));
      return;  // this HTTP session ends here; the WebSocket session owns the socket
    }
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    std::optional<std::string> token;
    if (auto h = req.find(http::field::authorization); h != req.end())
      token = std::string(h->value());
    const auto perms = authenticate(token);
    if (!perms) return;

    auto batch = std::make_shared<PreparedBatch>(impl_.dispatcher.prepare(req.body(), *perms));
    const auto status = batch->forbidden ? http::status::forbidden : http::status::ok;
    if (!batch->needs_worker) {
      return respond_rpc(status, impl_.dispatcher.execute(*batch, ctx(*perms)));
    }
    net::post(impl_.workers, [self = shared_from_this(), batch, status, perms = *perms] {
      const ThreadMark mark(&self->impl_);
      auto out = self->impl_.dispatcher.execute(*batch, self->ctx(perms));
      net::post(self->stream_.get_executor(), [self, status, out = std::move(out)]() mutable {
        self->respond_rpc(status, std::move(out));
      });
    });
  }

  // Verifies "Bearer <jwt>"; on failure sends the 401 and returns nullopt. A keep-alive client
  // reuses one token, so the last good one is remembered to skip the HMAC on later requests.
  std::optional<PermSet> authenticate(const std::optional<std::string>& header) {
    std::string why;
    if (!header) {
      why =
          "missing token: send 'Authorization: Bearer <token>' (create one with `sealhost auth "
          "create-token --perm read`)";
    } else if (auto token = bearer_token(*header); !token) {
      why = "unsupported authorization scheme: use 'Authorization: Bearer <token>'";
    } else if (!cached_token_.empty() && *token == cached_token_) {
      return cached_perms_;
    } else if (auto v = verify_token(impl_.secret, *token); !v.ok()) {
      why = "invalid token: " + v.error;
    } else {
      cached_token_ = std::string(*token);
      cached_perms_ = v.perms;
      return v.perms;
    }
    detail::logger()->debug("rpc {}: 401: {}", remote_, why);
    res_ = {};
    res_.set(http::field::www_authenticate, "Bearer");
    respond(http::status::unauthorized,
            JsonRpcDispatcher::error_response(nullptr, kUnauthorized, why), kJsonType,
            /*keep_headers=*/true);
    return std::nullopt;
  }

  void method_not_allowed(std::string_view allow) {
    res_ = {};
    res_.set(http::field::allow, allow);
    respond(http::status::method_not_allowed,
            "method not allowed: use " + std::string(allow) + "\n", "text/plain", true);
  }

  void respond_rpc(http::status status, std::string body) {
    if (body.empty()) return respond(http::status::no_content, {}, {});
    respond(status, std::move(body), kJsonType);
  }

  void respond(http::status status, std::string body, std::string_view content_type,
               bool keep_headers = false) {
    if (!keep_headers) res_ = {};
    res_.result(status);
    res_.version(version_);
    res_.set(http::field::server, kServerName);
    if (!content_type.empty()) res_.set(http::field::content_type, content_type);
    res_.keep_alive(keep_alive_ && !closing_ && !impl_.stopping.load());
    res_.body() = std::move(body);
    res_.prepare_payload();
    stream_.expires_after(milliseconds(impl_.opt.write_timeout_ms));
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&HttpSession::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    busy_ = false;
    if (ec) return close();
    if (!res_.keep_alive()) return linger_close();
    do_read();
  }

  // Half-close, then drain what the peer still sends for a moment: closing with unread data
  // would reset the connection and could destroy our response before the client reads it.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(kLingerTime);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  CallContext ctx(PermSet perms) const { return context(perms, Transport::kHttp); }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::empty_body>> continue_;
  Response res_;
  std::array<char, 4096> scratch_{};
  std::string cached_token_;
  PermSet cached_perms_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool closing_ = false;
};

}  // namespace

void RpcServer::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
    on_accept(ec, std::move(s));
  });
}

void RpcServer::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open() || stopping.load()) return;
  if (ec) {
    // Typically EMFILE: back off instead of spinning; connections wait in the listen queue.
    detail::logger()->warn("rpc: accept failed: {} (retrying in 100ms; raise `ulimit -n`?)",
                           ec.message());
    accept_backoff.expires_after(milliseconds(100));
    accept_backoff.async_wait([this](beast::error_code wec) {
      if (!wec) do_accept();
    });
    return;
  }
  beast::error_code opt_ec;
  socket.set_option(tcp::no_delay(true), opt_ec);
  auto session = std::make_shared<HttpSession>(std::move(socket), *this);
  track(session);
  session->start();
  do_accept();
}

RpcServer::RpcServer(const RpcRegistry& registry, JwtSecret secret, RpcServerOptions options)
    : impl_(std::make_unique<Impl>(registry, std::move(secret), std::move(options))) {}

RpcServer::~RpcServer() {
  stop();
}

void RpcServer::start() {
  auto& im = *impl_;
  std::lock_guard lock(im.lifecycle_mu);
  if (im.started) throw std::logic_error("rpc server: start() called twice");
  const std::string where = "api listen " + im.opt.host + ":" + std::to_string(im.opt.port);
  const std::string hint = " (stop the other process or set " + im.opt.config_key + ")";

  beast::error_code ec;
  tcp::resolver resolver(im.ioc);
  const auto results =
      resolver.resolve(im.opt.host, std::to_string(im.opt.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    throw std::runtime_error(where + ": cannot resolve host: " + ec.message() + " (fix " +
                             im.opt.config_key + ")");
  }
  const tcp::endpoint ep = results.begin()->endpoint();
  auto fail = [&] {
    std::string why = ec.message();
    std::string advice = " (fix " + im.opt.config_key + ")";
    if (ec == net::error::address_in_use) {
      why = "address already in use";
      advice = hint;
    } else if (ec == net::error::access_denied) {
      why = "permission denied";
      advice = " (use a port above 1023 or set " + im.opt.config_key + ")";
    } else if (ec == boost::system::errc::address_not_available) {
      why = "address not available on this machine";
      advice = " (use a local address or set " + im.opt.config_key + ")";
    }
    beast::error_code ignore;
    im.acceptor.close(ignore);
    return std::runtime_error(where + ": " + why + advice);
  };
  im.acceptor.open(ep.protocol(), ec);
  if (ec) throw fail();
  // Lets a restarted daemon rebind while old connections sit in TIME_WAIT; unlike SO_REUSEPORT
  // it does not allow two live listeners on one port.
  im.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) throw fail();
  im.acceptor.bind(ep, ec);
  if (ec) throw fail();
  im.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw fail();
  im.bound = im.acceptor.local_endpoint(ec);

  im.work.emplace(net::make_work_guard(im.ioc));
  im.do_accept();
  for (int i = 0; i < std::max(1, im.opt.io_threads); ++i) {
    im.threads.emplace_back([&im] {
      const ThreadMark mark(&im);
      for (;;) {
        try {
          im.ioc.run();
          return;
        } catch (const std::exception& e) {
          // Only our own bugs get here (handlers are guarded); keep serving, but say so.
          detail::logger()->error("rpc: network thread caught: {}", e.what());
        }
      }
    });
  }
  im.started = true;
  detail::logger()->info("rpc: listening on {} ({} io threads, {} blocking threads)",
                         endpoint_string(im.bound), im.opt.io_threads, im.opt.blocking_threads);
}

void RpcServer::stop() {
  auto& im = *impl_;
  if (tls_server_thread == &im) {
    throw std::logic_error(
        "rpc server: stop() called from a handler (signal the main thread to stop instead)");
  }
  std::lock_guard lock(im.lifecycle_mu);
  if (!im.started || im.stopped) return;
  im.stopped = true;
  im.stopping.store(true);

  std::promise<void> closed;
  net::post(im.acceptor.get_executor(), [&im, &closed] {
    beast::error_code ec;
    im.acceptor.close(ec);
    im.accept_backoff.cancel();
    closed.set_value();
  });
  closed.get_future().wait();

  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard sl(im.sessions_mu);
    for (auto& [ptr, weak] : im.sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->shutdown();
  live.clear();  // our references must not keep sessions alive

  {
    std::unique_lock sl(im.sessions_mu);
    im.sessions_cv.wait_for(sl, milliseconds(im.opt.stop_grace_ms),
                            [&im] { return im.sessions.empty(); });
    if (!im.sessions.empty()) {
      detail::logger()->warn("rpc: {} connection(s) still open after {} ms; dropping them",
                             im.sessions.size(), im.opt.stop_grace_ms);
    }
  }
  im.work.reset();
  im.ioc.stop();
  for (auto& t : im.threads) t.join();
  im.threads.clear();
  // Blocking handlers still running finish here (they see CallContext::stop_requested()).
  im.workers.stop();
  im.workers.join();
  detail::logger()->info("rpc: stopped");
}

std::uint16_t RpcServer::port() const {
  return impl_->bound.port();
}

std::string RpcServer::listen_address() const {
  return endpoint_string(impl_->bound);
}

std::string RpcServer::multiaddr() const {
  const auto addr = impl_->bound.address();
  return std::string(addr.is_v6() ? "/ip6/" : "/ip4/") + addr.to_string() + "/tcp/" +
         std::to_string(impl_->bound.port()) + "/http";
}

std::size_t RpcServer::connection_count() const {
  return impl_->connections.load();
}

}  // namespace sealhost::rpc
