#!/usr/bin/env bash
# `npm run bench`: every benchmark against the running local test cluster, from the bench's own
# laptop network namespace (bench/laptop-netns.sh; as root: TUN mode and the namespace need it). Writes bench/results.md and
# bench/results.json; arguments go to bench/main.mjs (--rounds N, --only connect,memory,
# new-connection,latency,bulk,dns,exchange,mesh, --out DIR, --cpu-prof DIR, --delay-ms MS).
# Another bench running on this machine (any worktree) is waited for first: both would measure
# each other's load.
# Needs `npm run build`, the cluster (`npm run cluster:up`) and this build's shadow image
# (packages/shadow-image/scripts/import-local.sh).
# Ctrl+C or SIGTERM (to this script or to bench/main.mjs) stops the run with the same clean-up as
# a normal end: main.mjs closes its sessions and deletes its namespace, then this script removes
# the network namespace.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo 'Error (KTX_BENCH_NOT_ROOT): the bench runs in the laptop network namespace and needs root.' >&2; echo 'Try this: sudo npm run bench' >&2; exit 1; }
[ -f test/.cluster/env ] || { echo 'Error (KTX_BENCH_NO_CLUSTER): test/.cluster/env is missing.' >&2; echo 'Try this: npm run cluster:up' >&2; exit 1; }
[ -d packages/cli/dist ] || { echo 'Error (KTX_BENCH_NOT_BUILT): packages/cli/dist is missing.' >&2; echo 'Try this: npm run build' >&2; exit 1; }
while other=$(pgrep -f '^[^ ]*node[^ ]* bench/main\.mjs' | head -1) && [ -n "$other" ]; do
  echo "bench: waiting for the bench already running (pid $other, $(readlink "/proc/$other/cwd" 2>/dev/null))" >&2
  sleep 15
done
node_bin=$(scripts/ensure-node.sh)
source test/.cluster/env
source bench/laptop-netns.sh
trap bench_laptop_down EXIT
bench_laptop_up
echo "bench: network namespace $BENCH_NETNS" >&2
# In the background so that a signal to this script is passed on (once) and waited for: the
# namespace goes only after main.mjs has closed the sessions in it.
BENCH_NETNS=$BENCH_NETNS BENCH_IF=$BENCH_IF ip netns exec "$BENCH_NETNS" "$node_bin/node" bench/main.mjs "$@" &
bench_pid=$!
trap 'kill -INT "$bench_pid" 2>/dev/null || true' INT TERM
status=0
while :; do
  wait "$bench_pid" && status=0 || status=$?
  kill -0 "$bench_pid" 2>/dev/null || break
done
exit "$status"
