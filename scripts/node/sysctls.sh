#!/usr/bin/env bash
# kubelet changes machine-wide sysctls (kernel.panic, kernel.panic_on_oops, vm.overcommit_memory).
# Two local clusters may run side by side, so the machine's values are saved once, by the first node
# up, and put back when the last one stops: each running node holds an entry under a directory in
# /run (lost at reboot, like the values kubelet set), all under one lock. An entry whose node's
# containerd no longer runs (a node killed without stop.sh) does not count.
# Usage: sysctls.sh hold|release STATE_DIR
set -euo pipefail
action=${1:?usage: sysctls.sh hold|release STATE_DIR}
state=$(cd "${2:?usage: sysctls.sh hold|release STATE_DIR}" && pwd)
dir=${KUBE_CONSOLE_SYSCTLS_DIR:-/run/kube-console-sysctls}
keys=(kernel.panic kernel.panic_on_oops vm.overcommit_memory)
mkdir -p "$dir/holders"
entry=$dir/holders/$(printf '%s' "$state" | sha256sum | cut -c1-16)

alive() { # holder entry: whether the node it names still runs (its containerd starts before it holds)
  local holder pid
  holder=$(cat "$1" 2>/dev/null) || return 1
  pid=$(cat "$holder/node/containerd.pid" 2>/dev/null) || return 1
  [ -d "/proc/$pid" ]
}
prune() { # forgets holders whose node is gone, this one excepted
  local other
  for other in "$dir"/holders/*; do
    if [ -e "$other" ] && [ "$other" != "$entry" ] && ! alive "$other"; then rm -f "$other"; fi
  done
}
others() { # whether a node other than this one holds
  local other
  for other in "$dir"/holders/*; do
    if [ -e "$other" ] && [ "$other" != "$entry" ]; then return 0; fi
  done
  return 1
}

exec 9>"$dir/lock"
flock 9
prune
case $action in
  hold)
    # No other node runs: the values now are the machine's own (unless a node that was killed left
    # kubelet's behind, in which case the saved file still has the machine's and is kept).
    if ! others && [ ! -f "$dir/saved" ]; then
      sysctl "${keys[@]}" > "$dir/saved.new" && mv "$dir/saved.new" "$dir/saved"
    fi
    printf '%s\n' "$state" > "$entry"
    ;;
  release)
    rm -f "$entry"
    if ! others && [ -f "$dir/saved" ]; then
      sysctl -q -p "$dir/saved" >/dev/null
      rm -f "$dir/saved"
    fi
    ;;
  *) echo "usage: sysctls.sh hold|release STATE_DIR" >&2; exit 2 ;;
esac
