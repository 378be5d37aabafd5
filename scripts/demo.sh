#!/usr/bin/env bash
# The main job, on a fresh machine: installs Node 24 and the dependencies, builds ktx, brings up the
# local Kubernetes (building it on first use), deploys a demo web Service in namespace `ktx-demo`, and
# runs `ktx connect` inside the laptop network namespace, where the cluster is otherwise unreachable.
# While it runs, try (from another shell):
#   sudo ip netns exec ktx-laptop curl http://web.ktx-demo/          (tun mode)
#   sudo ip netns exec ktx-laptop curl --socks5-hostname <printed address> http://web.ktx-demo/
# Ctrl-C ends the session and removes everything it made. Needs root (Linux).
# KTX_DEMO_MODE=socks|tun chooses the mode (default tun, with the tun2socks the cluster set-up cached: $TUN2SOCKS).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
[ "$(id -u)" = 0 ] || { echo "demo: the local cluster needs root; run: sudo $0" >&2; exit 1; }

node_bin=$(scripts/ensure-node.sh)
PATH="$node_bin:$PATH"
# Native addons (ssh2's crypto) must build against Node 24's headers, not a system Node's.
export npm_config_nodedir=${node_bin%/bin}
export PATH
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
bash test/cluster/up.sh
bash packages/shadow-image/scripts/import-local.sh
source test/.cluster/env
kubectl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_HOST" "$@"; }

kubectl get namespace ktx-demo >/dev/null 2>&1 || kubectl create namespace ktx-demo
kubectl -n ktx-demo apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: $BUSYBOX_IMAGE
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /srv && echo "hello from \$(hostname) in the cluster" > /srv/index.html && exec httpd -f -p 8080 -h /srv']
        ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
YAML
kubectl -n ktx-demo rollout status deployment/web --timeout=120s

mode=${KTX_DEMO_MODE:-tun}
echo "demo: without ktx, the laptop cannot reach the Service:" >&2
ip netns exec "$LAPTOP_NETNS" curl -sS --max-time 3 http://"$(kubectl -n ktx-demo get svc web -o jsonpath='{.spec.clusterIP}')"/ || true
echo "demo: starting 'ktx connect --mode $mode' in the laptop namespace (Ctrl-C to end)" >&2
exec ip netns exec "$LAPTOP_NETNS" env KUBECONFIG="$KUBECONFIG_LAPTOP" KTX_TUN2SOCKS="$TUN2SOCKS" \
  node packages/cli/bin/run.js connect --mode "$mode" --namespace ktx-demo --image "$SHADOW_IMAGE"
