#!/usr/bin/env bash
# Stops the local cluster that start.sh started in STATE_DIR: its node first (scripts/node/stop.sh
# leaves the machine as it found it), then exactly the processes whose pid files are there and
# whose command line names STATE_DIR, and nothing else.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=${1:?usage: stop.sh STATE_DIR}
[ -d "$state" ] || exit 0
state=$(cd "$state" && pwd)
"$here/../node/stop.sh" "$state"
for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do
  pid_file=$state/$name.pid
  pid=$(cat "$pid_file" 2>/dev/null) || continue
  if [ -d "/proc/$pid" ] && grep -qF "$state" "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ ! -d "/proc/$pid" ] || kill -9 "$pid" 2>/dev/null || true
    echo "stopped $name ($pid)"
  fi
  rm -f "$pid_file"
done
