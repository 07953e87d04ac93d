#!/usr/bin/env bash
# Stops the node start.sh started in STATE_DIR and leaves the machine as it found it: its pods'
# processes, containerd's shims, kubelet and kube-proxy end; what they mounted under STATE_DIR is
# unmounted, their cgroups removed, the sysctls kubelet changed put back (by the last node to stop),
# CNI's cached results of its pods removed, and the network namespace and veth removed.
# Usage: stop.sh STATE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${1:?usage: stop.sh STATE_DIR}
[ -d "$state" ] || exit 0
state=$(cd "$state" && pwd)
node=$state/node
[ -f "$state/node.env" ] || exit 0
. "$state/node.env"
cgroup_root=kube-console-$NODE_ID

stop_pid_file() { # name signal: the signal, then up to 2 s to finish, then KILL
  local pid; pid=$(cat "$node/$1.pid" 2>/dev/null) || return 0
  if [ -d "/proc/$pid" ]; then
    kill "-$2" "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$node/$1.pid"
}

# Nothing of kubelet's or kube-proxy's is worth a graceful stop: the node goes with them.
stop_pid_file kubelet KILL
stop_pid_file kube-proxy KILL
# Every process of every pod, found through the node's cgroups; then the shims that ran them, and
# their sockets in /run/containerd/s (named for a digest of containerd's address, namespace and id).
for _ in 1 2 3; do
  pids=$(find "/sys/fs/cgroup/pids/$cgroup_root" -name cgroup.procs -exec cat {} + 2>/dev/null || true)
  [ -n "$pids" ] || break
  kill -9 $pids 2>/dev/null || true
  sleep 0.2
done
for pid in $(pgrep -f containerd-shim-runc-v2 || true); do
  args=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
  case " $args " in *" -address $node/containerd.sock "*) ;; *) continue ;; esac
  id=$(sed -E 's/.* -id ([^ ]+).*/\1/' <<<"$args") namespace=$(sed -E 's/.* -namespace ([^ ]+).*/\1/' <<<"$args")
  kill -9 "$pid" 2>/dev/null || true
  for path in "$node/containerd.sock/$namespace/$id" "$node/containerd.sock/$namespace/$id/debug"; do
    rm -f "/run/containerd/s/$(printf '%s' "$path" | sha256sum | cut -d' ' -f1)"
  done
done
stop_pid_file containerd TERM

# What kubelet and containerd mounted (volumes, root filesystems, pod network namespaces), deepest first.
awk -v prefix="$node/" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do
  umount -l "$mount" 2>/dev/null || true
done
for hierarchy in /sys/fs/cgroup/*/; do
  [ -d "$hierarchy$cgroup_root" ] || continue
  find "$hierarchy$cgroup_root" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done
"$here/sysctls.sh" release "$state"
# CNI caches each attachment's result machine-wide; this node's name a network namespace of its own.
for result in /var/lib/cni/results/*; do
  if [ -f "$result" ] && grep -qF "\"netns\":\"$node/" "$result"; then rm -f "$result"; fi
done
if [ -f "$node/made-run-containerd" ]; then
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  rm -f "$node/made-run-containerd"
fi
"$here/network.sh" down "$state"
