// sealhost: the daemon (`sealhost run`) and the CLI, a client of the daemon's JSON-RPC API.
#include "host/cli/commands.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  try {
    // Logs (host and plugins) go to stderr: stdout carries command output (JSON, CIDs, tables).
    spdlog::set_default_logger(spdlog::stderr_color_mt("sealhost"));
    return sealhost::cli::dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
