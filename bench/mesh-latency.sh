#!/usr/bin/env bash
# Request latency through the mesh router, measured in the cluster, side by side in one run:
# a client pod sends N keep-alive GETs (ktx-testserver http-client) straight to the pod, to the
# stuntman Service (kube-proxy → the same pod) and to the meshed Service without a mark (kube-proxy
# → router → stuntman → pod), and with a mark (… router → shadow → SSH → this machine), rounds
# interleaved.
#   sudo bash bench/mesh-latency.sh [requests per round] [rounds]
# Needs `npm run build`, the cluster (`npm run cluster:up`, with its e2e tools) and the shadow image.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
node_bin=$(scripts/ensure-node.sh)
PATH="$node_bin:$PATH"
source test/.cluster/env
requests=${1:-400}
rounds=${2:-3}
kubectl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_HOST" "$@"; }
ns=ktx-bench-mesh
kubectl delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$ns" >/dev/null
mesh_pid=
laptop_pid=
cleanup() {
  [ -n "$mesh_pid" ] && kill -INT "$mesh_pid" 2>/dev/null && wait "$mesh_pid" 2>/dev/null || true
  [ -n "$laptop_pid" ] && kill "$laptop_pid" 2>/dev/null || true
  kubectl delete namespace "$ns" --wait=false >/dev/null
}
trap cleanup EXIT
kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: $TESTSERVER_IMAGE
        command: [/usr/local/bin/ktx-testserver, serve, --http, ':8080', --grpc, ':9090', --name, web]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {grpc: {port: 9090}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: client, image: $TESTSERVER_IMAGE, command: [sleep, '86400']}]
YAML
kubectl -n "$ns" rollout status deployment/web --timeout=120s >/dev/null
kubectl -n "$ns" wait --for=condition=Ready pod/client --timeout=120s >/dev/null

ip netns exec "$LAPTOP_NETNS" "$TESTSERVER" serve --name laptop --http :3001 --grpc '' >/dev/null 2>&1 &
laptop_pid=$!
log=$(mktemp)
ip netns exec "$LAPTOP_NETNS" env KUBECONFIG="$KUBECONFIG_LAPTOP" \
  node packages/cli/bin/run.js mesh web -n "$ns" -i "$SHADOW_IMAGE" --expose 3001:8080 --versionMark bench >"$log" 2>&1 &
mesh_pid=$!
until grep -q 'Press Ctrl+C' "$log"; do
  kill -0 "$mesh_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.5
done

pod_ip=$(kubectl -n "$ns" get pods -l app=web -o jsonpath='{.items[0].status.podIP}')
stuntman_ip=$(kubectl -n "$ns" get service web-ktx-stuntman -o jsonpath='{.spec.clusterIP}')
web_ip=$(kubectl -n "$ns" get service web -o jsonpath='{.spec.clusterIP}')
declare -A urls=(
  [pod]="http://$pod_ip:8080/"
  [stuntman]="http://$stuntman_ip/"
  [router]="http://$web_ip/"
  [marked]="http://$web_ip/"
)
results=$(mktemp)
for round in $(seq "$rounds"); do
  for path in pod stuntman router marked; do
    header=()
    [ "$path" = marked ] && header=(--header 'version: bench')
    kubectl -n "$ns" exec client -- ktx-testserver http-client --quiet --count "$requests" \
      --url "${urls[$path]}" "${header[@]}" | sed "s/^/$path $round /" >>"$results"
  done
done

node - "$results" "$requests" "$rounds" <<'JS'
const [file, requests, rounds] = process.argv.slice(2)
const lines = require('fs').readFileSync(file, 'utf8').trim().split('\n')
const by = {}
for (const line of lines) {
  const [path, , ...json] = line.split(' ')
  const r = JSON.parse(json.join(' '))
  if (r.request === 1) continue // the connection's set-up, not a request
  ;(by[path] ??= []).push(r.latencyUs / 1000)
}
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]
const rows = Object.entries(by).map(([path, xs]) => {
  xs.sort((a, b) => a - b)
  return { path, n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99) }
})
const base = rows.find((r) => r.path === 'pod')
console.log(`mesh router latency, ${rounds} rounds × ${requests} keep-alive GETs from a cluster pod (first request of each round left out)`)
console.log('| path | requests | p50 ms | p99 ms | p50 vs pod | added p50 ms |')
console.log('|---|---|---|---|---|---|')
for (const r of rows) {
  console.log(`| ${r.path} | ${r.n} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${(r.p50 / base.p50).toFixed(2)} | ${(r.p50 - base.p50).toFixed(3)} |`)
}
JS
