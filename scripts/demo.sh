#!/usr/bin/env bash
# Quick-start command 1: installs dependencies, builds, and runs the main job: a sealhost repo,
# its daemon, and what it serves. (Sealing and proving on the embedded devnet join this script as
# the stage, compute, PoSt and chain plugins land; see docs/roadmap.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building =="
bash scripts/build.sh
bin=${SEALHOST_BUILD_DIR:-build}/bin/sealhost
repo=${SEALHOST_DEMO_REPO:-$(mktemp -d /tmp/sealhost-demo.XXXXXX)/repo}
echo "== sealhost init (repo $repo) =="
"$bin" --repo "$repo" init
echo "== sealhost run =="
"$bin" --repo "$repo" run --listen 127.0.0.1:0 > "$repo.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 200); do [ -s "$repo/api" ] && break; sleep 0.05; done
[ -s "$repo/api" ] || { cat "$repo.log"; echo "daemon did not start"; exit 1; }
cat "$repo.log"
echo "== sealhost info =="
"$bin" --repo "$repo" info
echo "== sealhost plugins list =="
"$bin" --repo "$repo" plugins list
echo "== sealhost storage list =="
"$bin" --repo "$repo" storage list
if [ -x "$(dirname "$bin")/sealhost" ] && "$bin" commp --help >/dev/null 2>&1; then
  echo "== sealhost commp (256 MiB of random data) =="
  head -c $((256 << 20)) /dev/urandom > "$repo.piece"
  "$bin" commp "$repo.piece"
  rm -f "$repo.piece"
fi
echo "== sealhost stop =="
"$bin" --repo "$repo" stop
wait $daemon
trap - EXIT
echo "demo done: repo left at $repo"
