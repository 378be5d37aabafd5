# The bench's own "laptop": a network namespace like the test cluster's ktx-laptop (the API server
# is its only way into the cluster; pod, Service and node addresses are dropped on the host), but
# used by one bench run alone, so a TUN session another engineer's test holds in ktx-laptop
# neither carries the bench's traffic nor conflicts with the bench's routes. One per run: two
# benches at once get separate namespaces (slot N: ktx-bench-N, veth ktxbN-h/ktxbN-l,
# 10.201.1.(4N+1)/30 ↔ 10.201.1.(4N+2)). Sourced by bench/run.sh.
# shellcheck shell=bash

BENCH_SLOTS=64

bench_laptop_names() {
  BENCH_NETNS=ktx-bench-$1
  BENCH_HOST_IF=ktxb$1-h
  BENCH_IF=ktxb$1-l
  BENCH_HOST_IP=10.201.1.$((4 * $1 + 1))
  BENCH_IP=10.201.1.$((4 * $1 + 2))
  BENCH_CHAIN=KTX-BENCH-$1
}

bench_laptop_down() {
  [ -n "${BENCH_NETNS:-}" ] || return 0
  iptables -t raw -D PREROUTING -i "$BENCH_HOST_IF" -j "$BENCH_CHAIN" 2>/dev/null || true
  iptables -t raw -F "$BENCH_CHAIN" 2>/dev/null || true
  iptables -t raw -X "$BENCH_CHAIN" 2>/dev/null || true
  ip link del "$BENCH_HOST_IF" 2>/dev/null || true
  ip netns del "$BENCH_NETNS" 2>/dev/null || true
  rm -rf "/etc/netns/$BENCH_NETNS"
}

# Needs the cluster's env (CLUSTER_NODE_IP, CLUSTER_API_SERVER, LAPTOP_UPSTREAM_DNS) sourced.
# Claims the first free slot (`ip netns add` fails for a name that exists: two runs starting at
# once cannot take the same one) and sets BENCH_NETNS and the rest.
bench_laptop_up() {
  local api_port=${CLUSTER_API_SERVER##*:} slot
  for ((slot = 0; slot < BENCH_SLOTS; slot++)); do
    ip netns add "ktx-bench-$slot" 2>/dev/null && break
  done
  if [ "$slot" -ge "$BENCH_SLOTS" ]; then
    echo "Error (KTX_BENCH_NO_SLOT): ktx-bench-0 … ktx-bench-$((BENCH_SLOTS - 1)) all exist." >&2
    echo 'Try this: ip netns list; delete the ones no bench uses (ip netns pids NAME is empty).' >&2
    return 1
  fi
  bench_laptop_names "$slot"
  # A veth pair or chain left by a run that was killed (-9) in this slot.
  iptables -t raw -D PREROUTING -i "$BENCH_HOST_IF" -j "$BENCH_CHAIN" 2>/dev/null || true
  iptables -t raw -F "$BENCH_CHAIN" 2>/dev/null || true
  iptables -t raw -X "$BENCH_CHAIN" 2>/dev/null || true
  ip link del "$BENCH_HOST_IF" 2>/dev/null || true
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
