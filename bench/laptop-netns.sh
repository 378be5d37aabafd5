# The bench's own "laptop": a network namespace like the test cluster's ktx-laptop (the API server
# is its only way into the cluster; pod, Service and node addresses are dropped on the host), but
# used by the bench alone, so a TUN session another engineer's test holds in ktx-laptop neither
# carries the bench's traffic nor conflicts with the bench's routes. Sourced by bench/run.sh.
# shellcheck shell=bash

BENCH_NETNS=ktx-bench
BENCH_HOST_IF=ktx-bench-h
BENCH_IF=ktx-bench-l
BENCH_HOST_IP=10.201.0.5
BENCH_IP=10.201.0.6
BENCH_CHAIN=KTX-BENCH

bench_laptop_down() {
  iptables -t raw -D PREROUTING -i "$BENCH_HOST_IF" -j "$BENCH_CHAIN" 2>/dev/null || true
  iptables -t raw -F "$BENCH_CHAIN" 2>/dev/null || true
  iptables -t raw -X "$BENCH_CHAIN" 2>/dev/null || true
  ip link del "$BENCH_HOST_IF" 2>/dev/null || true
  ip netns del "$BENCH_NETNS" 2>/dev/null || true
  rm -rf "/etc/netns/$BENCH_NETNS"
}

# Needs the cluster's env (CLUSTER_NODE_IP, CLUSTER_API_SERVER, LAPTOP_UPSTREAM_DNS) sourced.
bench_laptop_up() {
  local api_port=${CLUSTER_API_SERVER##*:}
  bench_laptop_down
  ip netns add "$BENCH_NETNS"
  ip link add "$BENCH_HOST_IF" type veth peer name "$BENCH_IF"
  ip link set "$BENCH_IF" netns "$BENCH_NETNS"
  ip addr add "$BENCH_HOST_IP/30" dev "$BENCH_HOST_IF"
  ip link set "$BENCH_HOST_IF" up
  ip netns exec "$BENCH_NETNS" ip addr add "$BENCH_IP/30" dev "$BENCH_IF"
  ip netns exec "$BENCH_NETNS" ip link set "$BENCH_IF" up
  ip netns exec "$BENCH_NETNS" ip link set lo up
  ip netns exec "$BENCH_NETNS" ip route add "$CLUSTER_NODE_IP/32" via "$BENCH_HOST_IP"
  ip netns exec "$BENCH_NETNS" ip route add "$LAPTOP_UPSTREAM_DNS/32" via "$BENCH_HOST_IP"
  # Stateless, as for ktx-laptop: everything but the API server and the laptop's resolver is dropped.
  iptables -t raw -N "$BENCH_CHAIN"
  iptables -t raw -A "$BENCH_CHAIN" -d "$CLUSTER_NODE_IP/32" -p tcp --dport "$api_port" -j ACCEPT
  iptables -t raw -A "$BENCH_CHAIN" -d "$LAPTOP_UPSTREAM_DNS/32" -p udp --dport 53 -j ACCEPT
  iptables -t raw -A "$BENCH_CHAIN" -d "$LAPTOP_UPSTREAM_DNS/32" -p tcp --dport 53 -j ACCEPT
  iptables -t raw -A "$BENCH_CHAIN" -j DROP
  iptables -t raw -I PREROUTING 1 -i "$BENCH_HOST_IF" -j "$BENCH_CHAIN"
  mkdir -p "/etc/netns/$BENCH_NETNS"
  printf 'nameserver %s\n' "$LAPTOP_UPSTREAM_DNS" >"/etc/netns/$BENCH_NETNS/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"/etc/netns/$BENCH_NETNS/hosts"
}
