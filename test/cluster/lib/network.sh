# Host networking for the node, and the "laptop" network namespace. Sourced by up.sh and down.sh.
# shellcheck shell=bash

setup_host_network() {
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  # containerd and the kubelet need shared mount propagation; this VM's / is private.
  mount --make-rshared /
  # The node's address lives on lo: this VM kind has no dummy interfaces, and lo keeps it off eth0.
  ip addr show dev lo | grep -q " $NODE_IP/32" || ip addr add "$NODE_IP/32" dev lo
}

laptop() { ip netns exec "$LAPTOP_NETNS" "$@"; }

# The laptop is a network namespace whose only way into the cluster is the API server. Pod, Service,
# DNS and node ports are blocked by drop rules on the host, not merely by a missing route, so a test
# that reaches them from the laptop proves that ktx carried the traffic.
setup_laptop() {
  if ! ip netns list | grep -qw "$LAPTOP_NETNS"; then
    ip netns add "$LAPTOP_NETNS"
  fi
  if ! ip link show "$LAPTOP_HOST_IF" >/dev/null 2>&1; then
    ip link add "$LAPTOP_HOST_IF" type veth peer name "$LAPTOP_IF"
    ip link set "$LAPTOP_IF" netns "$LAPTOP_NETNS"
    ip addr add "$LAPTOP_HOST_IP/30" dev "$LAPTOP_HOST_IF"
    ip link set "$LAPTOP_HOST_IF" up
    laptop ip addr add "$LAPTOP_IP/30" dev "$LAPTOP_IF"
    laptop ip link set "$LAPTOP_IF" up
    laptop ip link set lo up
    laptop ip route add "$NODE_IP/32" via "$LAPTOP_HOST_IP"
  fi
  # The raw table sees packets before kube-proxy's DNAT and is a table kube-proxy never rewrites,
  # so NodePorts on the node address are dropped too. Stateless: every packet the laptop sends to
  # the API server has that destination, and replies do not enter through this interface.
  iptables -t raw -N KTX-LAPTOP 2>/dev/null || iptables -t raw -F KTX-LAPTOP
  iptables -t raw -A KTX-LAPTOP -d "$NODE_IP/32" -p tcp --dport "$API_PORT" -j ACCEPT
  iptables -t raw -A KTX-LAPTOP -d "$LAPTOP_HOST_IP/32" -p udp --dport 53 -j ACCEPT
  iptables -t raw -A KTX-LAPTOP -d "$LAPTOP_HOST_IP/32" -p tcp --dport 53 -j ACCEPT
  iptables -t raw -A KTX-LAPTOP -j DROP
  iptables -t raw -C PREROUTING -i "$LAPTOP_HOST_IF" -j KTX-LAPTOP 2>/dev/null ||
    iptables -t raw -I PREROUTING 1 -i "$LAPTOP_HOST_IF" -j KTX-LAPTOP
  # The laptop's own "public" resolver: answers names outside the cluster quickly, so tests can tell
  # a name answered by the upstream from one answered through the tunnel.
  mkdir -p "/etc/netns/$LAPTOP_NETNS"
  printf 'nameserver %s\n' "$LAPTOP_HOST_IP" >"/etc/netns/$LAPTOP_NETNS/resolv.conf"
  # Its own hosts file too (`ip netns exec` bind-mounts it over /etc/hosts), so ktx's hosts mode
  # is tested on the laptop's file, never the machine's. Only created: a running session may own a block in it.
  [ -f "/etc/netns/$LAPTOP_NETNS/hosts" ] ||
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"/etc/netns/$LAPTOP_NETNS/hosts"
  start_daemon laptop-dns dnsmasq --keep-in-foreground --no-daemon --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address="$LAPTOP_HOST_IP" --except-interface=lo --port 53 \
    --address=/public.test/203.0.113.10 --address=/example.test/203.0.113.11 --pid-file=
}

teardown_laptop() {
  iptables -t raw -D PREROUTING -i "$LAPTOP_HOST_IF" -j KTX-LAPTOP 2>/dev/null || true
  iptables -t raw -F KTX-LAPTOP 2>/dev/null || true
  iptables -t raw -X KTX-LAPTOP 2>/dev/null || true
  ip link del "$LAPTOP_HOST_IF" 2>/dev/null || true
  ip netns del "$LAPTOP_NETNS" 2>/dev/null || true
  rm -rf "/etc/netns/$LAPTOP_NETNS"
}
