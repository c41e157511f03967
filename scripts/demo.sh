#!/usr/bin/env bash
# Quick-start command 1: installs dependencies, builds, and runs the main job: a sealhost repo and
# its daemon, then seals and proves a real 8 MiB sector end to end through the stage plugins
# (`sealhost bench seal`: AddPiece, PC1, PC2, C1, vanilla C2, verify, Window/Winning PoSt) with a
# progress line per stage. (The daemon's own sealing pipeline on the embedded devnet replaces the
# bench run when the chain plugin lands; see docs/roadmap.md.)
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
  echo "== sealhost commp (64 MiB of random data) =="
  head -c $((64 << 20)) /dev/urandom > "$repo.piece"
  "$bin" commp "$repo.piece"
  rm -f "$repo.piece"
fi
echo "== sealhost stop =="
"$bin" --repo "$repo" stop
wait $daemon
trap - EXIT
echo "== sealhost bench seal --sector-size 8MiB (seal and prove one sector) =="
"$bin" bench seal --sector-size 8MiB --save-commit2-input "$repo.commit2.json"
echo "== sealhost bench prove (the saved commit2 input) =="
"$bin" bench prove "$repo.commit2.json"
echo "demo done: repo left at $repo"
