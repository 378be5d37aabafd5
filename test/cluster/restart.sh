#!/usr/bin/env bash
# Restarts one running component of the test cluster (kube-apiserver or kubelet) in place, for the
# fault-injection suites: stops it (SIGTERM, then SIGKILL after 10 s), starts it the way up.sh does
# and returns once it is healthy again. Prints the seconds it was down.
set -euo pipefail
CLUSTER_ROOT=$(cd "$(dirname "$0")" && pwd)
source "$CLUSTER_ROOT/lib/common.sh"
source "$CLUSTER_ROOT/lib/components.sh"

name=${1:-}
case "$name" in
  kube-apiserver) start=start_apiserver ;;
  kubelet) start=start_kubelet ;;
  *) die "usage: restart.sh kube-apiserver|kubelet" ;;
esac
require_linux_root
is_running "$name" || die "$name is not running; bring the cluster up with: npm run cluster:up"

began=$SECONDS
pid=$(cat "$RUN/$name.pid")
kill -TERM "$pid"
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
rm -f "$RUN/$name.pid"
"$start"
log "$name restarted; down for $((SECONDS - began))s"
