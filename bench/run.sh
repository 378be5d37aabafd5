#!/usr/bin/env bash
# `npm run bench`: every benchmark against the running local test cluster, from the bench's own
# laptop network namespace (bench/laptop-netns.sh; as root: TUN mode and the namespace need it). Writes bench/results.md and
# bench/results.json; arguments go to bench/main.mjs (--rounds N, --only connect,data,dns,exchange,
# --out DIR, --cpu-prof DIR).
# Needs `npm run build`, the cluster (`npm run cluster:up`) and this build's shadow image
# (packages/shadow-image/scripts/import-local.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo 'Error (KTX_BENCH_NOT_ROOT): the bench runs in the laptop network namespace and needs root.' >&2; echo 'Try this: sudo npm run bench' >&2; exit 1; }
[ -f test/.cluster/env ] || { echo 'Error (KTX_BENCH_NO_CLUSTER): test/.cluster/env is missing.' >&2; echo 'Try this: npm run cluster:up' >&2; exit 1; }
[ -d packages/cli/dist ] || { echo 'Error (KTX_BENCH_NOT_BUILT): packages/cli/dist is missing.' >&2; echo 'Try this: npm run build' >&2; exit 1; }
node_bin=$(scripts/ensure-node.sh)
source test/.cluster/env
source bench/laptop-netns.sh
trap bench_laptop_down EXIT
bench_laptop_up
ip netns exec "$BENCH_NETNS" "$node_bin/node" bench/main.mjs "$@"
