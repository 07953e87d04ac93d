#!/usr/bin/env bash
# Imports OCI image archives into the local node's containerd (as a registry push would make them
# available to a real cluster's nodes), e.g. the console's image for the chart's tests.
# Usage: import.sh STATE_DIR ARCHIVE...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$(cd "${1:?usage: import.sh STATE_DIR ARCHIVE...}" && pwd)
shift
runtime=$("$here/build.sh")
for archive in "$@"; do
  # ctr warns on every call that cgroup v1 is deprecated; say what it says only when it fails.
  if ! said=$("$runtime/ctr" --address "$state/node/containerd.sock" -n k8s.io images import "$archive" 2>&1 >/dev/null); then
    echo "$said" >&2
    exit 1
  fi
done
