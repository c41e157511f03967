// Command dispatch for the sealhost binary. Each command parses its own options
// (Boost.Program_options), has --help, and returns the process exit code.
#pragma once

namespace sealhost::cli {

int dispatch(int argc, char** argv);

}  // namespace sealhost::cli
