#!/usr/bin/env bash
# Builds the local node's container runtime from the Go module proxy: containerd v2 (daemon,
# runc shim, ctr), runc (with seccomp, from Debian's libseccomp-dev) and the CNI plugins the node's
# pod network uses. Each is `go install`ed at its pinned version in its own module, into a cache
# outside the checkout keyed by the versions and this script, so a rebuild happens only when they
# change. Prints the directory holding the binaries. (kubelet and kube-proxy come from
# scripts/controlplane/build.sh, at the API server's version.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

CONTAINERD=v2.4.2
RUNC=v1.5.2
CNI_PLUGINS=v1.9.1

key=$(cat "$here/build.sh" | sha256sum | cut -c1-12)
cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
bin_dir=$cache_root/node/containerd-$CONTAINERD-runc-$RUNC-cni-$CNI_PLUGINS-$key
binaries=(containerd containerd-shim-runc-v2 ctr runc bridge host-local loopback portmap)

complete() { for b in "${binaries[@]}"; do [ -x "$bin_dir/$b" ] || return 1; done; }

if ! complete; then
  command -v go >/dev/null || { echo "node/build.sh: Go is needed to build the node" >&2; exit 1; }
  [ -e /usr/include/seccomp.h ] || { echo "node/build.sh: runc needs libseccomp-dev (apt-get install libseccomp-dev)" >&2; exit 1; }
  mkdir -p "$cache_root/node"
  staging=$(mktemp -d "$cache_root/node/.build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  build_runtime() {
    cd "$staging"
    export GOBIN=$staging GOFLAGS=-mod=mod
    # containerd without the snapshotters that need other C libraries; the node uses overlayfs.
    CGO_ENABLED=1 go install -trimpath -ldflags "-s -w" -tags "no_btrfs no_devmapper no_zfs" \
      "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD" \
      "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD" \
      "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD"
    CGO_ENABLED=1 go install -trimpath -ldflags "-s -w" -tags seccomp "github.com/opencontainers/runc@$RUNC"
    local plugins=github.com/containernetworking/plugins/plugins
    CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$plugins/main/bridge@$CNI_PLUGINS" \
      "$plugins/ipam/host-local@$CNI_PLUGINS" "$plugins/main/loopback@$CNI_PLUGINS" "$plugins/meta/portmap@$CNI_PLUGINS"
  }
  . "$here/../build_step.sh"
  build_step "$cache_root/logs/node-build.log" \
    "the node's container runtime (containerd $CONTAINERD, runc $RUNC, CNI plugins $CNI_PLUGINS)" "1 to 1.5 minutes" build_runtime
  cd "$here"
  rm -rf "$bin_dir"
  mv "$staging" "$bin_dir"
  trap - EXIT
fi
echo "$bin_dir"
