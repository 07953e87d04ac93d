#!/usr/bin/env bash
# The local node's network, kept to itself: a network namespace joined to this machine by one
# veth pair, 10.250.N.1 on the machine (where the API server listens) and 10.250.N.2 in the
# namespace (the node's address: NodePorts, the kubelet). The namespace has no default route, so
# nothing in it (a pod, a controller, an image pull) can reach past this machine, not even a DNS
# server; the machine's own routes and iptables are left alone. N is picked per state directory
# from the addresses free on this machine, so several local clusters can run side by side.
#   network.sh up STATE_DIR     creates it (or finds it) and writes STATE_DIR/node.env
#   network.sh down STATE_DIR   removes exactly what `up` made
set -euo pipefail
action=${1:?usage: network.sh up|down STATE_DIR}
state=${2:?usage: network.sh up|down STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)
env_file=$state/node.env

case $action in
  up)
    if [ -f "$env_file" ]; then
      . "$env_file"
      if ip netns list | grep -qw "$NODE_NETNS" && ip link show "$NODE_HOST_IF" >/dev/null 2>&1; then
        exit 0
      fi
      "$0" down "$state"
    fi
    id=$(printf '%s' "$state" | sha256sum | cut -c1-6)
    netns=kcn-$id host_if=kch-$id
    first=$(( 0x${id:0:4} % 250 + 1 ))
    subnet=""
    for try in $(seq 0 249); do
      n=$(( (first + try - 1) % 250 + 1 ))
      if ! ip -4 -o addr show | grep -q " 10\.250\.$n\."; then subnet=$n; break; fi
    done
    [ -n "$subnet" ] || { echo "network.sh: no free 10.250.N.0/24 on this machine" >&2; exit 1; }
    # Should any step fail (a machine that refuses network namespaces), nothing is left behind.
    trap 'ip netns del "$netns" 2>/dev/null; ip link del "$host_if" 2>/dev/null; rm -f "$env_file"' ERR
    ip netns add "$netns"
    ip link add "$host_if" type veth peer name eth0 netns "$netns"
    ip addr add "10.250.$subnet.1/24" dev "$host_if"
    ip link set "$host_if" up
    ip -n "$netns" link set lo up
    ip -n "$netns" addr add "10.250.$subnet.2/24" dev eth0
    ip -n "$netns" link set eth0 up
    # Pods reach Services and each other through this namespace's bridge and kube-proxy's rules.
    nsenter --net="/run/netns/$netns" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
    cat > "$env_file" <<ENV
NODE_NETNS=$netns
NODE_HOST_IF=$host_if
HOST_IP=10.250.$subnet.1
NODE_IP=10.250.$subnet.2
NODE_ID=$id
ENV
    ;;
  down)
    [ -f "$env_file" ] || exit 0
    . "$env_file"
    ip netns del "$NODE_NETNS" 2>/dev/null || true  # takes the namespace's end of the veth with it
    ip link del "$NODE_HOST_IF" 2>/dev/null || true
    rm -f "$env_file"
    ;;
  *) echo "network.sh: unknown action $action" >&2; exit 2 ;;
esac
