// The two ways sealhost.stage.c2-external reaches an external prover: a child process in its own
// process group (stdout captured, stderr tail kept, killed as a group on timeout or cancel) and an
// HTTP/1.1 POST over plain TCP (Boost.Beast). Both poll `cancelled` every 100 ms.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace sealhost::stage_c2 {

using CancelFn = std::function<bool()>;

struct ProcessResult {
  bool exited = false;  // exited normally (exit_code valid); otherwise killed by `signal`
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string out;       // stdout (up to the limit)
  std::string err_tail;  // the last 8 KiB of stderr
  double seconds = 0;
};

// Runs argv[0] (searched in PATH) with stdin = /dev/null. Throws sdk::Error FAILED_PRECONDITION
// when the program cannot be started (not found, not executable), RESOURCE_EXHAUSTED when stdout
// passes `out_limit`, IO for pipe/spawn failures. Timeout and cancel are reported in the result
// after the group is killed (SIGTERM, then SIGKILL after `grace`).
ProcessResult run_process(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const CancelFn& cancelled, size_t out_limit,
                          std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

struct HttpTarget {
  std::string host;
  std::string port = "80";
  std::string target = "/";
};
// Parses http://host[:port][/path]. Throws sdk::Error INVALID_ARGUMENT naming the fix (https is
// refused: put a TLS-terminating proxy on localhost).
HttpTarget parse_http_url(const std::string& url);

struct HttpResult {
  unsigned status = 0;
  std::string body;
  double seconds = 0;
};

// POSTs `body` (Content-Type: application/json). Throws sdk::Error: UNAVAILABLE (resolve,
// connect, I/O errors, timeout — retry later), CANCELLED, RESOURCE_EXHAUSTED (response over
// `body_limit`). Any HTTP status is returned to the caller.
HttpResult http_post(const HttpTarget& to, const std::string& body,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     std::chrono::milliseconds timeout, const CancelFn& cancelled,
                     size_t body_limit);

}  // namespace sealhost::stage_c2
