#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubectl, and the
# node's kubelet and kube-proxy, from the Go module proxy into a cache outside the checkout,
# keyed by the versions and the module's files, so a rebuild happens only when they change.
# Prints the directory holding the binaries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

k8s_version=$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' go.mod)
etcd_version=$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' go.mod)
sources_hash=$(cat go.mod go.sum cmd/*/main.go | sha256sum | cut -c1-12)
cache_root=${KUBE_CONSOLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-console}
bin_dir=$cache_root/controlplane/k8s-$k8s_version-etcd-$etcd_version-$sources_hash
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)

complete() { for b in "${binaries[@]}"; do [ -x "$bin_dir/$b" ] || return 1; done; }

if ! complete; then
  command -v go >/dev/null || { echo "build.sh: Go is needed to build the control plane" >&2; exit 1; }
  mkdir -p "$cache_root/controlplane"
  staging=$(mktemp -d "$cache_root/controlplane/.build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  minor=${k8s_version#v1.}; minor=${minor%%.*}
  version_pkg=k8s.io/component-base/version
  ldflags="-s -w -X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor"
  . "$here/../build_step.sh"
  build_step "$cache_root/logs/controlplane-build.log" "the local control plane (Kubernetes $k8s_version, etcd $etcd_version)" \
    "5 to 8 minutes" go build -trimpath -ldflags "$ldflags" -o "$staging/" "${binaries[@]/#/./cmd/}"
  rm -rf "$bin_dir"
  mv "$staging" "$bin_dir"
  trap - EXIT
fi
echo "$bin_dir"
