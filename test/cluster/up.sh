#!/usr/bin/env bash
# Brings up a single-node Kubernetes on this machine, offline, plus the "laptop" network namespace.
# Idempotent: running components are kept, cached binaries are reused. Writes test/.cluster/env.
set -euo pipefail
CLUSTER_ROOT=$(cd "$(dirname "$0")" && pwd)
REPO_ROOT=$(cd "$CLUSTER_ROOT/../.." && pwd)
source "$CLUSTER_ROOT/lib/common.sh"
source "$CLUSTER_ROOT/lib/pki.sh"
source "$CLUSTER_ROOT/lib/network.sh"
source "$CLUSTER_ROOT/lib/components.sh"
source "$CLUSTER_ROOT/lib/images.sh"
source "$CLUSTER_ROOT/lib/test-tools.sh"

preflight() {
  require_linux_root
  grep -q ' /sys/fs/cgroup' /proc/mounts || die "no cgroup file system is mounted at /sys/fs/cgroup"
  [ -e /dev/net/tun ] || log "warning: /dev/net/tun is missing; ktx's TUN mode will not work here"
  local port name
  for entry in "$ETCD_PORT:etcd" "$API_PORT:kube-apiserver" "$KUBELET_PORT:kubelet"; do
    port=${entry%%:*} name=${entry#*:}
    if ! is_running "$name" && port_taken_by_other "$port"; then
      die "port $port (for $name) is already taken by another process: $(ss -Hltnp "sport = :$port" | head -1). Stop it, or run 'npm run cluster:down' if it is a leftover test cluster."
    fi
  done
}

install_packages() {
  local needed=() cmd pkg
  for entry in containerd:containerd runc:runc etcd:etcd-server ctr:containerd conntrack:conntrack \
    iptables:iptables openssl:openssl curl:curl dig:dnsutils dnsmasq:dnsmasq-base gcc:gcc python3:python3 \
    ss:iproute2; do
    cmd=${entry%%:*} pkg=${entry#*:}
    command -v "$cmd" >/dev/null || needed+=("$pkg")
  done
  [ -x /bin/busybox ] && /bin/busybox --list | grep -x httpd >/dev/null || needed+=(busybox-static)
  [ -x /usr/lib/cni/bridge ] || needed+=(containernetworking-plugins)
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || needed+=(libc6-dev)
  [ ${#needed[@]} -eq 0 ] && return 0
  log "installing from Debian: ${needed[*]}"
  # Keep the packages' init scripts from starting a system etcd or containerd of their own.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
}

build_binaries() {
  "$CLUSTER_ROOT/lib/build-k8s.sh"
  "$CLUSTER_ROOT/lib/build-tools.sh"
}

control_plane() {
  mkdir -p "$STATE" "$RUN" "$LOGS"
  make_pki
  start_etcd
  start_apiserver
  start_controllers
}

node() {
  start_containerd
  import_images
  start_kubelet
  start_kube_proxy
}

write_env() {
  mkdir -p "$REPO_ROOT/test/.cluster"
  cat >"$REPO_ROOT/test/.cluster/env" <<ENV
KUBECONFIG_HOST=$STATE/admin.kubeconfig
KUBECONFIG_LAPTOP=$STATE/laptop.kubeconfig
LAPTOP_NETNS=$LAPTOP_NETNS
LAPTOP_IP=$LAPTOP_IP
LAPTOP_UPSTREAM_DNS=$LAPTOP_HOST_IP
CLUSTER_API_SERVER=https://$NODE_IP:$API_PORT
CLUSTER_NODE_IP=$NODE_IP
CLUSTER_POD_CIDR=$POD_CIDR
CLUSTER_SERVICE_CIDR=$SERVICE_CIDR
CLUSTER_DNS_IP=$DNS_IP
CLUSTER_ROOT=$CLUSTER_ROOT
CLUSTER_LOGS=$LOGS
KUBECTL=$KUBECTL
TUN2SOCKS=$KTX_CACHE/tun2socks/$TUN2SOCKS_VERSION/tun2socks
PAUSE_IMAGE=$PAUSE_IMAGE
BUSYBOX_IMAGE=$BUSYBOX_IMAGE
COREDNS_IMAGE=$COREDNS_IMAGE
SHADOW_IMAGE=localhost/ktx-shadow:dev
$(test_tools_env)
ENV
}

e2e_tools() { "$CLUSTER_ROOT/tools.sh"; }

started=$SECONDS
phase "preflight" preflight
phase "Debian packages" install_packages
phase "binaries (cache: $KTX_CACHE)" build_binaries
phase "host network" setup_host_network
phase "control plane" control_plane
phase "node" node
phase "CoreDNS" start_coredns
phase "laptop namespace" setup_laptop
phase "e2e tools" e2e_tools
write_env
log "cluster is up in $((SECONDS - started))s; environment written to test/.cluster/env"
