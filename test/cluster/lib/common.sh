# Shared settings and helpers for the test cluster scripts. Sourced, never run.
# shellcheck shell=bash

K8S_VERSION=${K8S_VERSION:-v1.33.13}
COREDNS_VERSION=${COREDNS_VERSION:-v1.12.0}
TUN2SOCKS_VERSION=${TUN2SOCKS_VERSION:-v2.6.0}
# grpcurl for the e2e suites' gRPC checks: the newest 1.9 release the Go module proxy serves.
GRPCURL_VERSION=${GRPCURL_VERSION:-v1.9.4}

# Machine-wide cache of built binaries, keyed by version; survives clean clones and `cluster:down`.
KTX_CACHE=${KTX_CACHE:-/var/cache/ktx}
# Everything a running cluster owns (PKI, configs, pid files, logs); `cluster:down` removes it.
STATE=${KTX_CLUSTER_STATE:-/var/lib/ktx-cluster}
PKI=$STATE/pki
RUN=$STATE/run
LOGS=$STATE/logs

K8S_BIN=$KTX_CACHE/k8s/$K8S_VERSION
COREDNS_BIN=$KTX_CACHE/coredns/$COREDNS_VERSION/coredns
GRPCURL=$KTX_CACHE/grpcurl/$GRPCURL_VERSION/grpcurl
KUBECTL=$K8S_BIN/kubectl

NODE_NAME=ktx-node
NODE_IP=10.200.0.1
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
DNS_IP=10.96.0.10
ETCD_PORT=12379
API_PORT=6443
KUBELET_PORT=10250

LAPTOP_NETNS=ktx-laptop
LAPTOP_HOST_IF=ktx-lap-h
LAPTOP_IF=ktx-lap-l
LAPTOP_HOST_IP=10.201.0.1
LAPTOP_IP=10.201.0.2

PAUSE_IMAGE=localhost/pause:3.10
BUSYBOX_IMAGE=localhost/busybox:1.35
COREDNS_IMAGE=localhost/coredns:${COREDNS_VERSION}

CONTAINERD_SOCK=/run/containerd/containerd.sock

export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOWORK=off CGO_ENABLED=0

die() { echo "cluster: error: $*" >&2; exit 1; }
log() { echo "cluster: $*" >&2; }

require_go() {
  command -v go >/dev/null ||
    die "Go is not installed; the cluster's components are built from the Go module proxy. Install Go >= 1.24 (https://go.dev/doc/install) and retry."
  local v
  v=$(go env GOVERSION | sed 's/^go//')
  [ "$(printf '%s\n1.24\n' "$v" | sort -V | head -1)" = "1.24" ] || die "Go $v is too old; Kubernetes $K8S_VERSION needs Go >= 1.24."
}

require_linux_root() {
  [ "$(uname -s)" = Linux ] || die "the test cluster runs only on Linux (this is $(uname -s))."
  [ "$(id -u)" = 0 ] || die "the test cluster needs root (it starts containerd, kubelet and network namespaces); run it with sudo."
}

kubectl() { "$KUBECTL" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

# Shows the end of a component's log, so a failed wait says why.
show_log_tail() {
  local f=$LOGS/$1.log
  [ -f "$f" ] && { echo "---- last 15 lines of $f ----" >&2; tail -n 15 "$f" | cut -c1-400 >&2; }
}

# Polls a probe command until it succeeds: the probe observes readiness, the interval only paces it.
wait_for() { # component timeout-seconds command...
  local name=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      show_log_tail "$name"
      die "$name did not become healthy within ${timeout}s (probe: $*); its log is $LOGS/$name.log"
    fi
    if [ -f "$RUN/$name.pid" ] && ! kill -0 "$(cat "$RUN/$name.pid")" 2>/dev/null; then
      show_log_tail "$name"
      die "$name exited during start-up; its log is $LOGS/$name.log"
    fi
    sleep 0.5
  done
}

is_running() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# Starts a long-running component in its own session, logging to $LOGS/<name>.log, unless it already runs.
start_daemon() { # name command...
  local name=$1
  shift
  is_running "$name" && return 0
  mkdir -p "$RUN" "$LOGS"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

port_taken_by_other() { # port: true when something not started by us listens on it
  ss -Hltn "sport = :$1" | grep -q . || return 1
  return 0
}

# Runs one bring-up phase and prints how long it took.
phase() { # title function
  local start=$SECONDS
  log "phase: $1 ..."
  "$2"
  log "phase: $1 done in $((SECONDS - start))s"
}

# Writes stdin to a file only when the content differs: kube-proxy exits when its config file
# changes under it, and an unchanged file keeps the run idempotent.
write_if_changed() { # file
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; chmod 644 "$1"; fi
}
