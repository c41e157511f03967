#include "plugins/stage/c2-external/transport.hpp"

#include <sealhost/sdk/error.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

extern char** environ;

namespace sealhost::stage_c2 {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kErrTail = 8 * 1024;
constexpr auto kTick = std::chrono::milliseconds(100);

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int* addr() { return &fd_; }

 private:
  int fd_ = -1;
};

struct SpawnState {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  SpawnState() {
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
  }
  ~SpawnState() {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
};

// True once pid has exited. It is left a zombie (WNOWAIT), so its pid, which is also its process
// group id, cannot be reused before the group is killed and the leader reaped.
bool leader_exited(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno != EINTR;  // ECHILD: nothing left to wait for
  }
  return info.si_pid == pid;
}

bool exits_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (!leader_exited(pid)) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const CancelFn& cancelled, size_t out_limit,
                          std::chrono::milliseconds grace) {
  if (argv.empty() || argv[0].empty()) {
    throw sdk::invalid_argument("c2 command: empty (set [stages.c2] command = [\"<prover>\", …])");
  }
  const auto t0 = Clock::now();
  int out_p[2], err_p[2];
  if (::pipe2(out_p, O_CLOEXEC) != 0)
    throw sdk::io_error("c2: pipe: " + std::string(std::strerror(errno)));
  Fd out_r(out_p[0]), out_w(out_p[1]);
  if (::pipe2(err_p, O_CLOEXEC) != 0)
    throw sdk::io_error("c2: pipe: " + std::string(std::strerror(errno)));
  Fd err_r(err_p[0]), err_w(err_p[1]);

  SpawnState sp;
  posix_spawn_file_actions_addopen(&sp.fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&sp.fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&sp.fa, err_w.get(), 2);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, s);
  }
  posix_spawnattr_setsigmask(&sp.attr, &none);
  posix_spawnattr_setsigdefault(&sp.attr, &defaults);
  posix_spawnattr_setpgroup(&sp.attr, 0);
  posix_spawnattr_setflags(&sp.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0].c_str(), &sp.fa, &sp.attr, cargv.data(), environ);
  out_w.reset();
  err_w.reset();
  if (rc == ENOENT) {
    throw sdk::failed_precondition("c2 command " + argv[0] +
                                   ": not found (install the prover or fix [stages.c2] command; "
                                   "PATH is searched when the name has no '/')");
  }
  if (rc == EACCES || rc == ENOEXEC || rc == EPERM) {
    throw sdk::failed_precondition("c2 command " + argv[0] + ": cannot be executed (" +
                                   std::strerror(rc) + "; check its permissions and #! line)");
  }
  if (rc != 0) {
    throw sdk::io_error("c2 command " + argv[0] + ": cannot start: " + std::strerror(rc));
  }

  ProcessResult res;
  bool reaped = false;
  int status = 0;
  bool out_open = true, err_open = true;
  // Kills the whole group (the leader first gets SIGTERM and `grace` to exit when `gracefully`),
  // then reaps the leader. Stragglers die with the group even when the leader exited on its own.
  auto kill_group = [&](bool gracefully) {
    if (reaped) return;
    if (gracefully && !leader_exited(pid)) {
      ::kill(-pid, SIGTERM);
      exits_within(pid, grace);
    }
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    reaped = true;
  };
  auto drain = [&](int fd, bool is_out, bool& open) {
    char buf[65536];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
      open = false;
      return;
    }
    if (n < 0) return;
    if (is_out) {
      if (res.out.size() + static_cast<size_t>(n) > out_limit) {
        kill_group(false);
        throw sdk::exhausted("c2 command " + argv[0] + ": wrote more than " +
                             std::to_string(out_limit) +
                             " bytes to stdout (send logs to stderr, or the proof to {output})");
      }
      res.out.append(buf, static_cast<size_t>(n));
    } else {
      res.err_tail.append(buf, static_cast<size_t>(n));
      if (res.err_tail.size() > 2 * kErrTail) res.err_tail.erase(0, res.err_tail.size() - kErrTail);
    }
  };
  const auto deadline = t0 + timeout;
  while (out_open || err_open || !reaped) {
    if (!reaped && leader_exited(pid)) {
      kill_group(false);  // children left behind would hold the pipes open
    }
    if (Clock::now() >= deadline) {
      res.timed_out = true;
      kill_group(true);
      break;
    }
    if (cancelled && cancelled()) {
      res.cancelled = true;
      kill_group(true);
      break;
    }
    pollfd fds[2];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out_r.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err_r.get(), POLLIN, 0};
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const int wait_ms =
        static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), kTick.count())));
    const int pr = ::poll(fds, n, wait_ms);
    if (pr < 0 && errno != EINTR) {
      kill_group(false);
      throw sdk::io_error("c2: poll: " + std::string(std::strerror(errno)));
    }
    for (nfds_t i = 0; pr > 0 && i < n; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      if (fds[i].fd == out_r.get())
        drain(out_r.get(), true, out_open);
      else
        drain(err_r.get(), false, err_open);
    }
  }
  if (res.err_tail.size() > kErrTail) res.err_tail.erase(0, res.err_tail.size() - kErrTail);
  if (WIFEXITED(status)) {
    res.exited = true;
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
  }
  res.seconds = since(t0);
  return res;
}

// ---------------------------------------------------------------------------------- HTTP

HttpTarget parse_http_url(const std::string& url) {
  auto bad = [&](const std::string& why) -> HttpTarget {
    throw sdk::invalid_argument("option url \"" + url + "\": " + why);
  };
  std::string_view u = url;
  if (u.starts_with("https://")) {
    return bad(
        "https is not supported (use plain http, e.g. through a TLS-terminating proxy on "
        "localhost)");
  }
  if (!u.starts_with("http://")) return bad("expected http://host[:port][/path]");
  u.remove_prefix(7);
  HttpTarget t;
  const size_t slash = u.find('/');
  std::string_view authority = u.substr(0, slash);
  t.target = slash == std::string_view::npos ? "/" : std::string(u.substr(slash));
  if (authority.empty()) return bad("no host");
  if (authority.find('@') != std::string_view::npos)
    return bad("credentials in the URL are not supported");
  if (authority.front() == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    t.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return bad("expected :port after the IPv6 host");
      t.port = std::string(authority.substr(1));
    }
  } else {
    const size_t colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) t.port = std::string(authority.substr(colon + 1));
  }
  if (t.host.empty()) return bad("no host");
  if (t.port.empty() || t.port.size() > 5 ||
      t.port.find_first_not_of("0123456789") != std::string::npos || std::stoul(t.port) == 0 ||
      std::stoul(t.port) > 65535) {
    return bad("port \"" + t.port + "\" is not a number from 1 to 65535");
  }
  return t;
}

HttpResult http_post(const HttpTarget& to, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::chrono::milliseconds timeout, const CancelFn& cancelled,
                     size_t body_limit) {
  namespace net = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = net::ip::tcp;

  const auto t0 = Clock::now();
  const std::string where = "c2 url http://" + to.host + ":" + to.port + to.target;
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> req{http::verb::post, to.target, 11};
  req.set(http::field::host, to.host + ":" + to.port);
  req.set(http::field::user_agent, "sealhost-stage-c2-external");
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  parser.header_limit(64 * 1024);

  beast::error_code failure;
  const char* step = "resolve";
  bool done = false;
  resolver.async_resolve(
      to.host, to.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
        if (ec) {
          failure = ec;
          done = true;
          return;
        }
        step = "connect";
        stream.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) {
            failure = ec2;
            done = true;
            return;
          }
          step = "send";
          http::async_write(stream, req, [&](beast::error_code ec3, size_t) {
            if (ec3) {
              failure = ec3;
              done = true;
              return;
            }
            step = "read the response";
            http::async_read(stream, buffer, parser, [&](beast::error_code ec4, size_t) {
              failure = ec4;
              done = true;
            });
          });
        });
      });
  const auto deadline = t0 + timeout;
  bool timed_out = false, was_cancelled = false;
  while (!done) {
    ioc.run_for(kTick);
    if (done) break;
    if (Clock::now() >= deadline) timed_out = true;
    if (cancelled && cancelled()) was_cancelled = true;
    if (timed_out || was_cancelled) {
      resolver.cancel();
      beast::error_code ignore;
      stream.socket().cancel(ignore);
      stream.socket().close(ignore);
      ioc.run_for(std::chrono::milliseconds(1000));  // let the handlers see the cancel
      break;
    }
  }
  if (was_cancelled) throw sdk::cancelled(where + ": cancelled while waiting to " + step);
  if (timed_out) {
    throw sdk::unavailable(where + ": no proof within the timeout of " +
                           std::to_string(timeout.count()) + " ms (stuck at: " + step +
                           "); raise [stages.c2] timeout or check the prover service");
  }
  if (failure == http::error::body_limit) {
    throw sdk::exhausted(where + ": response larger than " + std::to_string(body_limit) +
                         " bytes (not a proof)");
  }
  if (failure) {
    throw sdk::unavailable(where + ": " + step + ": " + failure.message() +
                           " (is the prover service running? retry later)");
  }
  beast::error_code ignore;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignore);
  HttpResult r;
  r.status = parser.get().result_int();
  r.body = std::move(parser.get().body());
  r.seconds = since(t0);
  return r;
}

}  // namespace sealhost::stage_c2
