// JSON-RPC server throughput and latency under 64 concurrent keep-alive HTTP clients.
//
//   sealhost_rpc_bench [--seconds 5] [--clients 64] [--io-threads 2] [--client-threads 1]
//
// Starts RpcServer on 127.0.0.1:0 with a Filecoin.Version-like method, measures the time from
// constructing the server to the first 200 on /healthz, then drives POST /rpc/v0 with async Beast
// clients on their own io_context thread(s) for a fixed time. Every response is checked (status
// 200 and a "result"); errors are counted and make the exit status non-zero. Clients and server
// share the machine, so the figure is a lower bound for the server alone.
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "host/rpc/server.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using sealhost::rpc::Perm;

constexpr double kTargetRps = 20'000;

struct Config {
  double seconds = 5;
  int clients = 64;
  int io_threads = 2;
  int client_threads = 1;
};

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--seconds") {
      c.seconds = std::atof(v);
    } else if (k == "--clients") {
      c.clients = std::atoi(v);
    } else if (k == "--io-threads") {
      c.io_threads = std::atoi(v);
    } else if (k == "--client-threads") {
      c.client_threads = std::atoi(v);
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return c;
}

struct Stats {
  std::vector<std::uint32_t> latencies_us;
  std::uint64_t errors = 0;
};

// One keep-alive client: send, wait for the reply, repeat until `stop_at`.
class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(net::io_context& ioc, tcp::endpoint ep, const std::string& token,
         Clock::time_point measure_from, Clock::time_point stop_at, Stats& stats)
      : stream_(ioc), ep_(ep), measure_from_(measure_from), stop_at_(stop_at), stats_(stats) {
    req_ = {http::verb::post, "/rpc/v0", 11};
    req_.set(http::field::host, "127.0.0.1");
    req_.set(http::field::authorization, "Bearer " + token);
    req_.set(http::field::content_type, "application/json");
    req_.body() = R"({"jsonrpc":"2.0","id":1,"method":"Filecoin.Version","params":[]})";
    req_.prepare_payload();
  }

  void start() {
    stream_.async_connect(ep_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        ++self->stats_.errors;
        return;
      }
      self->stream_.socket().set_option(tcp::no_delay(true));
      self->send();
    });
  }

 private:
  void send() {
    if (Clock::now() >= stop_at_) return;
    sent_at_ = Clock::now();
    http::async_write(
        stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) {
            ++self->stats_.errors;
            return;
          }
          self->res_ = {};
          http::async_read(self->stream_, self->buffer_, self->res_,
                           [self](beast::error_code rec, std::size_t) { self->on_read(rec); });
        });
  }

  void on_read(beast::error_code ec) {
    const auto now = Clock::now();
    if (ec || res_.result() != http::status::ok ||
        res_.body().find("\"result\"") == std::string::npos) {
      ++stats_.errors;
      return;
    }
    if (sent_at_ >= measure_from_ && now <= stop_at_) {
      stats_.latencies_us.push_back(static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - sent_at_).count()));
    }
    send();
  }

  beast::tcp_stream stream_;
  tcp::endpoint ep_;
  Clock::time_point measure_from_;
  Clock::time_point stop_at_;
  Clock::time_point sent_at_;
  Stats& stats_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  beast::flat_buffer buffer_;
};

// User + system CPU time of the whole process (server and client threads).
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto sec = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = parse_args(argc, argv);
  spdlog::set_level(spdlog::level::warn);

  sealhost::rpc::RpcRegistry registry;
  registry.add("Filecoin.Version", Perm::kRead,
               [](const nlohmann::json&, const sealhost::rpc::CallContext&) {
                 return nlohmann::json{
                     {"Version", "1.0.0+sealhost"}, {"APIVersion", 0x10300}, {"BlockDelay", 30}};
               });
  auto secret = sealhost::rpc::JwtSecret::generate();
  const auto token = sealhost::rpc::create_token(secret, Perm::kRead);

  sealhost::rpc::RpcServerOptions opt;
  opt.port = 0;
  opt.io_threads = cfg.io_threads;

  // Start-to-serving: construct + start, then the first successful /healthz round trip.
  const auto t_start = Clock::now();
  sealhost::rpc::RpcServer server(registry, secret, opt);
  server.start();
  const tcp::endpoint ep(net::ip::address_v4::loopback(), server.port());
  {
    net::io_context ioc;
    for (const auto give_up = t_start + std::chrono::seconds(10);;) {
      if (Clock::now() > give_up) {
        std::fprintf(stderr, "rpc bench: /healthz did not answer 200 within 10 s\n");
        return 1;
      }
      beast::tcp_stream s(ioc);
      beast::error_code ec;
      s.connect(ep, ec);
      if (ec) continue;
      http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
      req.set(http::field::host, "127.0.0.1");
      http::write(s, req, ec);
      beast::flat_buffer b;
      http::response<http::string_body> res;
      if (!ec) http::read(s, b, res, ec);
      if (!ec && res.result() == http::status::ok) break;
    }
  }
  const double serving_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - t_start).count();

  // Each client thread owns an io_context and a slice of the clients (no shared state).
  const double cpu_before = cpu_seconds();
  const auto begin = Clock::now();
  const auto measure_from = begin + std::chrono::milliseconds(300);  // skip connection set-up
  const auto stop_at = measure_from + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(cfg.seconds));
  std::vector<Stats> stats(static_cast<std::size_t>(cfg.client_threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < cfg.client_threads; ++t) {
    threads.emplace_back([&, t] {
      net::io_context ioc(1);
      for (int c = t; c < cfg.clients; c += cfg.client_threads) {
        std::make_shared<Client>(ioc, ep, token, measure_from, stop_at,
                                 stats[static_cast<std::size_t>(t)])
            ->start();
      }
      ioc.run();
    });
  }
  for (auto& th : threads) th.join();
  const double cpu_used = cpu_seconds() - cpu_before;
  const double wall = std::chrono::duration<double>(Clock::now() - begin).count();
  server.stop();

  std::vector<std::uint32_t> all;
  std::uint64_t errors = 0;
  for (auto& s : stats) {
    all.insert(all.end(), s.latencies_us.begin(), s.latencies_us.end());
    errors += s.errors;
  }
  std::sort(all.begin(), all.end());
  const auto pct = [&](double p) -> double {
    if (all.empty()) return 0;
    return all[std::min(all.size() - 1,
                        static_cast<std::size_t>(p * static_cast<double>(all.size())))] /
           1000.0;
  };
  const double rps = static_cast<double>(all.size()) / cfg.seconds;
  std::printf(
      "rpc bench: %d keep-alive clients (%d client thread(s)), server io_threads=%d, %u cores\n",
      cfg.clients, cfg.client_threads, cfg.io_threads, std::thread::hardware_concurrency());
  std::printf("start-to-serving: %.2f ms\n", serving_ms);
  std::printf("requests: %zu in %.1f s = %.0f req/s (%.2fx the %.0f req/s target)\n", all.size(),
              cfg.seconds, rps, rps / kTargetRps, kTargetRps);
  std::printf("latency: p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", pct(0.50), pct(0.99),
              all.empty() ? 0.0 : all.back() / 1000.0);
  // The machine may be shared: CPU time actually received says what 2 dedicated cores would do.
  const double per_cpu = cpu_used > 0 ? static_cast<double>(all.size()) / cpu_used : 0;
  std::printf(
      "cpu: %.2f core-seconds in %.2f s wall (%.2f cores) = %.0f req per core-second "
      "(server + clients); 2 dedicated cores => ~%.0f req/s\n",
      cpu_used, wall, cpu_used / wall, per_cpu, 2 * per_cpu);
  std::printf("errors: %llu\n", static_cast<unsigned long long>(errors));
  return errors == 0 && !all.empty() ? 0 : 1;
}
