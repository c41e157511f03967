#!/usr/bin/env bash
# Quick-start command 2: installs dependencies, builds, and runs the whole test suite.
#   bash scripts/test.sh                 # everything but the `heavy` label
#   SEALHOST_TEST_ALL=1 bash scripts/test.sh   # heavy tests too
#   SEALHOST_SANITIZE=1 bash scripts/test.sh   # ASan+UBSan build in build-asan
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [ -f tests/oracle/package-lock.json ]; then
  echo "== installing the commP oracle (@web3-storage/data-segment) =="
  npm ci --prefix tests/oracle --no-audit --no-fund --loglevel=error
fi
cmake_args=()
if [ "${SEALHOST_SANITIZE:-0}" = 1 ]; then
  export SEALHOST_BUILD_DIR=${SEALHOST_BUILD_DIR:-build-asan}
  cmake_args+=(-DSEALHOST_SANITIZE=ON -DSEALHOST_BUILD_BENCH=OFF)
fi
build_dir=${SEALHOST_BUILD_DIR:-build}
echo "== building into $build_dir =="
bash scripts/build.sh "${cmake_args[@]}"
echo "== running tests =="
label_args=(-LE heavy)
if [ "${SEALHOST_TEST_ALL:-0}" = 1 ]; then label_args=(); fi
ctest --test-dir "$build_dir" "${label_args[@]}" --output-on-failure -j 2 --timeout 600
