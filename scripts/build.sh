#!/usr/bin/env bash
# Configures and builds sealhost into ./build (or $SEALHOST_BUILD_DIR) with Ninja and ccache.
# Extra arguments go to CMake, e.g. -DSEALHOST_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SEALHOST_BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/sealhost-ccache}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
