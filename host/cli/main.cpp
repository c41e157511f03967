// sealhost: the daemon (`sealhost run`) and the CLI, a client of the daemon's JSON-RPC API.
#include "host/cli/commands.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  try {
    return sealhost::cli::dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
