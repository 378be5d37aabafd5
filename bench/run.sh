#!/usr/bin/env bash
# Runs the benchmarks against the local test cluster from the laptop namespace.
#   sudo bash bench/run.sh [rounds]
# Needs `npm run build`, `npm run cluster:up` and the shadow image (packages/shadow-image/scripts/import-local.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
node_bin=$(scripts/ensure-node.sh)
PATH="$node_bin:$PATH"
# Native addons (ssh2's crypto) must build against Node 24's headers, not a system Node's.
export npm_config_nodedir=${node_bin%/bin}
source test/.cluster/env
kubectl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_HOST" "$@"; }
ns=ktx-bench
kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$ns" >/dev/null
trap 'kubectl delete namespace "$ns" --wait=false >/dev/null' EXIT
kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: $BUSYBOX_IMAGE
    imagePullPolicy: IfNotPresent
    # A small page for request latency and 64 MiB for bulk throughput.
    command: [sh, -c, 'mkdir -p /srv && echo ok > /srv/index.html && dd if=/dev/zero of=/srv/big.bin bs=1M count=64 2>/dev/null && exec httpd -f -p 8080 -h /srv']
    readinessProbe: {exec: {command: [test, -f, /srv/big.bin]}, periodSeconds: 1}
YAML
kubectl -n "$ns" wait --for=condition=Ready pod/web --timeout=120s >/dev/null
ip netns exec "$LAPTOP_NETNS" env KUBECONFIG="$KUBECONFIG_LAPTOP" KUBECTL="$KUBECTL" \
  node bench/tunnel-vs-port-forward.mjs "$ns" web "$SHADOW_IMAGE" "${1:-300}"
