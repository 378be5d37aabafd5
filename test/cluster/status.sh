#!/usr/bin/env bash
# Says which test cluster components run, and whether the node and DNS are ready.
set -uo pipefail
CLUSTER_ROOT=$(cd "$(dirname "$0")" && pwd)
source "$CLUSTER_ROOT/lib/common.sh"
healthy=0
for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy laptop-dns; do
  if is_running "$name"; then
    printf '%-24s running (pid %s)\n' "$name" "$(cat "$RUN/$name.pid")"
  else
    printf '%-24s stopped\n' "$name"
    healthy=1
  fi
done
if [ -f "$STATE/admin.kubeconfig" ] && [ -x "$KUBECTL" ]; then
  kubectl get nodes -o wide 2>&1
  kubectl -n kube-system get pods 2>&1
fi
ip netns list | grep -qw "$LAPTOP_NETNS" && echo "laptop namespace $LAPTOP_NETNS: present" || { echo "laptop namespace $LAPTOP_NETNS: absent"; healthy=1; }
echo "logs: $LOGS"
exit $healthy
