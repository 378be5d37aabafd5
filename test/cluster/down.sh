#!/usr/bin/env bash
# Stops the test cluster and removes what it made: processes, containers, mounts, iptables chains,
# network namespaces and state. The binary cache is kept.
set -uo pipefail
CLUSTER_ROOT=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$CLUSTER_ROOT/../.." && pwd)
source "$CLUSTER_ROOT/lib/common.sh"
source "$CLUSTER_ROOT/lib/network.sh"
require_linux_root

stop_pid() { # name
  local file=$RUN/$1.pid pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$file"
}

# Stop the node first, so nothing recreates what the next steps remove.
for name in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd laptop-dns; do
  stop_pid "$name"
done
if [ -S "$CONTAINERD_SOCK" ]; then
  for task in $(ctr -a "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "$task" >/dev/null 2>&1
  done
  for task in $(ctr -a "$CONTAINERD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$CONTAINERD_SOCK" -n k8s.io tasks delete -f "$task" >/dev/null 2>&1
  done
  for container in $(ctr -a "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null); do
    ctr -a "$CONTAINERD_SOCK" -n k8s.io containers delete "$container" >/dev/null 2>&1
  done
fi
stop_pid containerd
# Shims outlive containerd; they are ours if their bundle is in the k8s.io namespace.
for shim in $(pgrep -f 'containerd-shim-runc-v2 -namespace k8s.io'); do kill -9 "$shim" 2>/dev/null; done

grep -E ' (/var/lib/kubelet/|/run/containerd/|/run/netns/cni-)' /proc/mounts | awk '{print $2}' | sort -r |
  while read -r mount; do umount -l "$mount" 2>/dev/null; done
for ns in $(ip netns list 2>/dev/null | awk '/^cni-/{print $1}'); do ip netns del "$ns"; done
ip link del ktx-cni0 2>/dev/null
teardown_laptop
for table in filter nat mangle raw; do
  iptables-save -t "$table" | grep -qE 'KUBE-|CNI-' || continue
  iptables-save -t "$table" | grep -vE 'KUBE-|CNI-' | iptables-restore -T "$table" 2>/dev/null ||
    iptables-save -t "$table" | grep -vE 'KUBE-|CNI-' | iptables-restore
done
ip addr del "$NODE_IP/32" dev lo 2>/dev/null
rm -rf /var/lib/cni/networks/ktx-pods /etc/cni/net.d/10-ktx.conflist /var/lib/kubelet/pods "$STATE"
rm -rf "$REPO_ROOT/test/.cluster"
log "cluster is down (binary cache kept in $KTX_CACHE)"
